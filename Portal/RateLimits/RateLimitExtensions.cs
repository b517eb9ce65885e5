using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.RateLimits;

public static class RateLimitExtensions
{
    /// <summary>The store's bucket on PostgreSQL (several instances), the in-memory one on SQLite (one instance).</summary>
    public static IServiceCollection AddSharedRateLimits(this IServiceCollection services) =>
        services.AddSingleton<IRateLimiter>(sp => sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider == StoreProvider.Postgres
            ? ActivatorUtilities.CreateInstance<PostgresRateLimiter>(sp)
            : sp.GetRequiredService<RequestRateLimiter>());
}
