using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.Gateway;

namespace Portal.ApiKeys;

public static class ApiKeysExtensions
{
    /// <summary>A request needs a live key in <c>Authorization: Bearer …</c> or <c>x-api-key</c>; the key goes into <see cref="CurrentApiKey"/>.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(AuthenticateAsync);

    private static async ValueTask<object?> AuthenticateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var throttle = http.RequestServices.GetRequiredService<InvalidKeyThrottle>();
        if (throttle.Refusal(http) is { } retryAfter)
        {
            return ApiError.TooManyInvalidKeys(retryAfter).ToResult();
        }

        // Anthropic's clients send the key as x-api-key (the Messages API, ADR 30); any route takes either.
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : http.Request.Headers["x-api-key"].ToString().Trim();
        if (presented.Length == 0)
        {
            return ApiError.InvalidKey("Send your API key as 'Authorization: Bearer sk-portal-…' (or 'x-api-key: sk-portal-…'). Create one at /settings/apikeys.").ToResult();
        }

        var resolver = http.RequestServices.GetRequiredService<ApiKeyResolver>();
        if (await resolver.ResolveAsync(presented, http.RequestAborted) is not { } key)
        {
            throttle.Failed(http);
            return ApiError.InvalidKey("The API key is not valid: unknown, revoked or expired.").ToResult();
        }

        if (key.Paused)
        {
            // A real key its owner switched off: not a guess, so not counted by the throttle.
            return ApiError.KeyPaused().ToResult();
        }

        // Unverified accounts may not spend (Accounts:RequireConfirmedEmail): a key made before the setting was on, say.
        if (!key.OwnerEmailConfirmed && http.RequestServices.GetRequiredService<EmailVerification>().Required)
        {
            return ApiError.EmailNotVerified().ToResult();
        }

        http.RequestServices.GetRequiredService<CurrentApiKey>().Key = key;
        return await next(context);
    }

    /// <summary>Creating and revoking keys, and resolving a bearer key to its live state for each API request.</summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations()
            .Validate<IOptions<GatewayOptions>>((keys, gateway) => gateway.Value.DefaultRequestsPerMinute <= keys.MaxRequestsPerMinute,
                "ApiKeys:MaxRequestsPerMinute must be at least Gateway:DefaultRequestsPerMinute: the default applies to keys that set no limit of their own.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<InvalidKeyThrottle>();
        builder.Services.AddSingleton<ApiKeyResolver>();
        builder.Services.AddScoped<CurrentApiKey>();
        return builder;
    }
}
