using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Billing;

/// <summary>
/// Settles credit holds that no request will settle any more, because the process serving it died
/// (kill -9, a crash, a lost machine), at the progress the request recorded in the store if it has
/// any (what a long stream had delivered), else released for nothing (ADR 20). Whose holds those are,
/// the instance leases say (<see cref="InstanceLeases"/>): every hold names its instance's lease, and
/// once that lease lapses (or its process restarts) the hold is orphaned. A live instance's holds are
/// never touched, however old; so on PostgreSQL a dead instance's holds are settled by another within
/// about <see cref="StoreOptions.LeaseSeconds"/>, and on SQLite (one process per data folder,
/// <see cref="DataFolderLock"/>) at start-up — the same code on both. Holds that name no instance (made
/// before leases) go once older than <see cref="GatewayOptions.StaleHoldSeconds"/> (all of them at
/// start-up on SQLite). Before it first looks, the journal's pending settlements are written (ADR 18),
/// so a settlement that failed is never mistaken for a dead request. On PostgreSQL one instance sweeps
/// at a time (an advisory lock); the ledger's unique release per request makes a double release
/// impossible anyway.
/// </summary>
public sealed class StaleHoldRecovery(
    CreditsLedger ledger,
    InstanceLeases leases,
    LedgerWriter writer,
    SettlementJournal journal,
    SettlementRetry retry,
    IOptions<StoreOptions> store,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<StaleHoldRecovery> logger) : BackgroundService
{
    // Any constant: the lock is only between Portal instances on one database.
    private const long LockId = 0x706f7274616c01; // "portal" 1

    private readonly SemaphoreSlim _sweeping = new(1, 1);
    private DateTimeOffset _nextUnownedSweep = DateTimeOffset.MinValue;

    private bool Shared => store.Value.Provider == StoreProvider.Postgres;

    private TimeSpan StaleAge => TimeSpan.FromSeconds(options.Value.StaleHoldSeconds);

    /// <summary>
    /// The start-up sweep, before serving: the journal first, then this process's lease (ending the
    /// leases known dead: this folder's previous process's, and on SQLite every other), then every hold
    /// of an instance without a lease, and unowned ones (all on SQLite, old ones on PostgreSQL).
    /// </summary>
    /// <returns>How many holds were settled.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        journal.Load();
        await retry.DrainAsync(all: true, cancellationToken);
        await leases.AcquireAsync(cancellationToken);
        _nextUnownedSweep = time.GetUtcNow() + StaleAge / 2;
        var now = time.GetUtcNow().UtcDateTime;
        return await SweepOnceAsync(new OrphanedHolds(UnownedBefore: Shared ? now - StaleAge : now), force: true, cancellationToken) ?? 0;
    }

    /// <summary>
    /// One pass: ends lapsed leases, then settles the holds of instances without a lease (if any lease
    /// was ended, or <paramref name="force"/>) and the others <paramref name="which"/> names.
    /// </summary>
    /// <returns>How many holds were settled; null if another instance is sweeping right now.</returns>
    public async Task<int?> SweepOnceAsync(OrphanedHolds which, bool force, CancellationToken cancellationToken = default)
    {
        await _sweeping.WaitAsync(cancellationToken);
        try
        {
            if (!Shared)
            {
                return await SettleAsync(which, force, cancellationToken);
            }

            await using var connection = new NpgsqlConnection(store.Value.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockId})", connection);
            if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return null;
            }

            try
            {
                return await SettleAsync(which, force, cancellationToken);
            }
            finally
            {
                await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockId})", connection);
                await unlock.ExecuteScalarAsync(CancellationToken.None);
            }
        }
        finally
        {
            _sweeping.Release();
        }
    }

    private async Task<int> SettleAsync(OrphanedHolds which, bool force, CancellationToken cancellationToken)
    {
        // The lease goes first, and only while still lapsed: a hold is orphaned once its lease is gone,
        // so an instance that renewed in time keeps its holds.
        var ended = await leases.EndLapsedAsync(cancellationToken);
        if (ended == 0 && !force && which.UnownedBefore is null && which.OwnInstance is null)
        {
            return 0;
        }

        return await ledger.SettleOrphanedHoldsAsync(which, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // As often as leases are renewed: a lapsed lease is noticed within one period of lapsing.
        var period = TimeSpan.FromSeconds(store.Value.LeaseRenewSeconds);
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var inDoubt = writer.TakeHoldsInDoubt();
            try
            {
                var now = time.GetUtcNow();
                var unowned = now >= _nextUnownedSweep;
                if (!inDoubt && !unowned && !await leases.AnyLapsedAsync(stoppingToken))
                {
                    continue;
                }

                var which = new OrphanedHolds(unowned ? now.UtcDateTime - StaleAge : null, inDoubt ? leases.Id : null);
                if (await SweepOnceAsync(which, force: false, stoppingToken) is null)
                {
                    // Another instance is sweeping: what this one wanted is looked at again next period.
                    if (inDoubt)
                    {
                        writer.MarkHoldsInDoubt();
                    }

                    continue;
                }

                if (unowned)
                {
                    _nextUnownedSweep = now + StaleAge / 2;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (inDoubt)
                {
                    writer.MarkHoldsInDoubt();
                }

                logger.LogWarning(e, "Settling orphaned credit holds failed; retrying in {Period}", period);
            }
        }
    }
}
