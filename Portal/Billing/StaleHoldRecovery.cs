using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Billing;

/// <summary>
/// Settles credit holds that no request will settle any more, because the process serving it died
/// (kill -9, a crash, a lost machine): at the progress the request recorded in the settlement journal
/// if it has any (what a long stream had delivered), else released for nothing. Before it looks, the
/// journal's pending settlements are written (ADR 18), so a settlement that failed is never mistaken
/// for a dead request. At start-up on SQLite every hold is stale: the data folder's lock says no other
/// process serves this file. Everywhere else — PostgreSQL, and SQLite after start-up — only holds older
/// than <see cref="GatewayOptions.StaleHoldSeconds"/> go, periodically (no request lives that long:
/// <see cref="GatewayOptions.RequestDeadline"/>), so an instance that never comes back still has its
/// holds released by the others. On PostgreSQL one instance sweeps at a time (an advisory lock); the
/// ledger's unique release per request makes a double release impossible anyway.
/// </summary>
public sealed class StaleHoldRecovery(
    CreditsLedger ledger,
    SettlementJournal journal,
    SettlementRetry retry,
    IOptions<StoreOptions> store,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<StaleHoldRecovery> logger) : BackgroundService
{
    // Any constant: the lock is only between Portal instances on one database.
    private const long LockId = 0x706f7274616c01; // "portal" 1

    private bool Shared => store.Value.Provider == StoreProvider.Postgres;

    private TimeSpan StaleAge => TimeSpan.FromSeconds(options.Value.StaleHoldSeconds);

    /// <summary>The start-up sweep: the journal first, then every hold on SQLite, old ones on PostgreSQL.</summary>
    /// <returns>How many holds were settled or released.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        journal.Load();
        await retry.DrainAsync(all: true, cancellationToken);
        return await SweepAsync(Shared ? StaleAge : TimeSpan.Zero, cancellationToken);
    }

    private async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        if (!Shared)
        {
            return await ledger.ReleaseStaleHoldsAsync(olderThan, cancellationToken);
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
            return await ledger.ReleaseStaleHoldsAsync(olderThan, cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockId})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A hold becomes stale StaleHoldSeconds after it was taken; sweeping twice as often releases it
        // at most 1.5 × that after its request died.
        using var timer = new PeriodicTimer(StaleAge / 2, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(StaleAge, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Releasing stale credit holds failed; retrying in {Period}", StaleAge / 2);
            }
        }
    }
}
