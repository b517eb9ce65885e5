using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.RateLimits;

public static class RateLimitExtensions
{
    /// <summary>
    /// Each key's request limit: the store's bucket on PostgreSQL (several instances share it, ADR 7),
    /// the in-memory one on SQLite (one instance).
    /// </summary>
    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RequestRateLimiter>();
        builder.Services.AddSingleton<IRateLimiter>(sp => sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider == StoreProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresRateLimiter>(sp)
            : sp.GetRequiredService<RequestRateLimiter>());
        return builder;
    }
}
