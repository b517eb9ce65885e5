namespace Portal.ApiKeys;

public static class ApiKeysExtensions
{
    /// <summary>Creating and revoking keys, and resolving a bearer key to its live state for each API request.</summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<ApiKeyResolver>();
        builder.Services.AddScoped<CurrentApiKey>();
        return builder;
    }
}
