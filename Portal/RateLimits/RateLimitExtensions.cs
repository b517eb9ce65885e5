using System.Globalization;
using Microsoft.Extensions.Options;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Data;
using Portal.Gateway;
using Portal.Observability;

namespace Portal.RateLimits;

public static class RateLimitExtensions
{
    /// <summary>
    /// Each key's request and token limits: the store's bucket on PostgreSQL (several instances share it, ADR 7),
    /// the in-memory one on SQLite (one instance).
    /// </summary>
    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RequestRateLimiter>();
        builder.Services.AddSingleton<IRateLimiter>(sp => sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider == StoreProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresRateLimiter>(sp)
            : sp.GetRequiredService<RequestRateLimiter>());
        // Tokens per minute the same way: shared through the store on PostgreSQL, in memory on SQLite (ADR 33).
        builder.Services.AddSingleton<TokenRateLimiter>();
        builder.Services.AddSingleton<ITokenLimiter>(sp => sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider == StoreProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresTokenLimiter>(sp)
            : sp.GetRequiredService<TokenRateLimiter>());
        builder.Services.AddSingleton<TokenLimits>();
        return builder;
    }

    /// <summary>
    /// Refuses (429) every request of an account that has been refused too often this minute
    /// (<see cref="RefusalLog"/>), before the key's bucket, the balance or anything else in the store is
    /// looked at; a refused completion only adds to the minute's count. Goes after
    /// <see cref="ApiKeysExtensions.RequireApiKey{TBuilder}"/>, which names the account.
    /// </summary>
    public static TBuilder RequireRefusalAllowance<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(RefuseThrottledAsync);

    /// <summary>
    /// Takes one request from the authenticated key's allowance (so it goes after
    /// <see cref="ApiKeysExtensions.RequireApiKey{TBuilder}"/>); the limit headers go on every keyed response.
    /// </summary>
    public static TBuilder RequireKeyRateLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(AcquireAsync);

    private static async ValueTask<object?> AcquireAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.RequestServices.GetRequiredService<CurrentApiKey>().Key;
        var decision = await http.RequestServices.GetRequiredService<IRateLimiter>().AcquireAsync(key.KeyId, key.RequestsPerMinute, http.RequestAborted);
        var headers = http.Response.Headers;
        headers["x-ratelimit-limit-requests"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-requests"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-requests"] = FormatDuration(decision.Reset);
        if (decision.Allowed)
        {
            return await next(context);
        }

        var refused = ApiError.RateLimited(decision.RetryAfter, decision.Limit);
        if (HttpMethods.IsPost(http.Request.Method))
        {
            http.RequestServices.GetRequiredService<GatewayMetrics>().Completed("unknown", refused.Status, TimeSpan.Zero, null, 0, 0, 0);
            // A refused completion is still a request of this key's: it belongs in the usage records.
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            await http.RequestServices.GetRequiredService<RefusalLog>().RecordAsync(
                UsageRecord.Refused(FrontDoor.Of(http.Request.Path), http.RequestId(), key.UserId, key.KeyId, model: null, refused.Status, refused.Code, now));
        }

        return refused.ToResult();
    }

    private static async ValueTask<object?> RefuseThrottledAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = http.RequestServices.GetRequiredService<CurrentApiKey>().Key;
        var refusals = http.RequestServices.GetRequiredService<RefusalLog>();
        if (refusals.Throttled(key.UserId) is not { } retryAfter)
        {
            return await next(context);
        }

        var refused = ApiError.TooManyRefusedRequests(retryAfter, http.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RefusalsPerMinute);
        if (HttpMethods.IsPost(http.Request.Method))
        {
            http.RequestServices.GetRequiredService<GatewayMetrics>().Completed("unknown", refused.Status, TimeSpan.Zero, null, 0, 0, 0);
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
            await refusals.RecordAsync(UsageRecord.Refused(FrontDoor.Of(http.Request.Path), http.RequestId(), key.UserId, key.KeyId, model: null, refused.Status, refused.Code, now));
        }

        return refused.ToResult();
    }

    /// <summary>OpenAI's style: "1s", "6m0s", "250ms".</summary>
    internal static string FormatDuration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => $"{Math.Ceiling(span.TotalMilliseconds):0}ms",
        { TotalMinutes: < 1 } => $"{Math.Ceiling(span.TotalSeconds):0}s",
        _ => $"{(int)span.TotalMinutes}m{Math.Ceiling(span.TotalSeconds % 60):0}s",
    };
}
