using Portal.Gateway;

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

    /// <summary>While the API is switched off, its routes answer 503 before anything else (keys are not even looked at).</summary>
    public static TBuilder RequireApiSwitchOn<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static async (context, next) =>
            await context.HttpContext.RequestServices.GetRequiredService<ApiSwitch>().IsOnAsync(context.HttpContext.RequestAborted)
                ? await next(context)
                : ApiError.Unavailable().ToResult());
}
