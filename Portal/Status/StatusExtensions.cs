namespace Portal.Status;

public static class StatusExtensions
{
    /// <summary>The public API switch (read by every API request) and the public status page's numbers.</summary>
    public static IHostApplicationBuilder AddStatus(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiSwitch>();
        builder.Services.AddSingleton<StatusQueries>();
        return builder;
    }
}
