using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Billing;

/// <summary>
/// Releases credit holds that no request will settle any more, because the process serving it died
/// (kill -9, a crash, a lost machine). On SQLite there is one instance, so at start-up every hold is
/// stale. On PostgreSQL other instances' requests are live, so only holds older than
/// <see cref="GatewayOptions.StaleHoldSeconds"/> go, at start-up and then periodically — an instance
/// that never comes back still has its holds released by the others. One instance sweeps at a time
/// (an advisory lock); the ledger's unique release per request makes a double release impossible anyway.
/// </summary>
public sealed class StaleHoldRecovery(
    CreditsLedger ledger,
    IOptions<StoreOptions> store,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<StaleHoldRecovery> logger) : BackgroundService
{
    // Any constant: the lock is only between Portal instances on one database.
    private const long LockId = 0x706f7274616c01; // "portal" 1

    private bool Shared => store.Value.Provider == StoreProvider.Postgres;

    private TimeSpan MaxAge => Shared ? TimeSpan.FromSeconds(options.Value.StaleHoldSeconds) : TimeSpan.Zero;

    /// <returns>How many holds were released.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        if (!Shared)
        {
            return await ledger.ReleaseStaleHoldsAsync(MaxAge, cancellationToken);
        }

        await using var connection = new NpgsqlConnection(store.Value.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockId})", connection);
        if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return 0; // another instance is sweeping right now
        }

        try
        {
            return await ledger.ReleaseStaleHoldsAsync(MaxAge, cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockId})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Shared)
        {
            return;
        }

        // A hold becomes stale StaleHoldSeconds after it was taken; sweeping twice as often releases it
        // at most 1.5 × that after its instance died.
        using var timer = new PeriodicTimer(MaxAge / 2, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Releasing stale credit holds failed; retrying in {Period}", MaxAge / 2);
            }
        }
    }
}
