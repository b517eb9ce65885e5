using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Observability;

namespace Portal.Billing;

public enum HoldOutcome
{
    Held,
    InsufficientBalance,
    KeySpendCapReached,
    /// <summary>The organization member's budget that resets would be exceeded (the key's limits allowed it).</summary>
    MemberBudgetReached,
}

/// <summary>What a finished request owes: its hold is released and the real cost charged, once (beyond the hold only as far as the balance goes: ADR 13).</summary>
/// <param name="ClearsProgress">The request recorded its progress in the store: the row goes with the settlement (ADR 20).</param>
/// <param name="BudgetPeriodStart">The key's budget period its hold counted in (ADR 29): a refund comes off that period's spend only
/// while it is still the key's current one. 0 when unknown (recovered holds): nothing comes off, so a budget is never overspent.</param>
/// <param name="MemberId">On an organization key, its member (<paramref name="UserId"/> is the organization): whose budget a refund goes back to.</param>
/// <param name="MemberBudgetPeriodStart">The member's budget period the hold counted in, as <paramref name="BudgetPeriodStart"/> is the key's.</param>
public sealed record Settlement(string UserId, string? ApiKeyId, string RequestId, long HoldMicros, long ChargeMicros, bool ClearsProgress = false,
    long BudgetPeriodStart = 0, string? MemberId = null, long MemberBudgetPeriodStart = 0);

/// <summary>
/// Group commit for the gateway's ledger writes (ADR 6): a writer takes every hold, settlement and
/// usage record waiting in its queue and commits them in one transaction, so a busy gateway pays one
/// commit (and on PostgreSQL one or two round trips: ADR 39, ADR 40) for many requests instead of several per request.
/// SQLite has one such writer; PostgreSQL a few (<see cref="LanesFor"/>).
/// A caller's task completes only after the transaction holding its write has committed: a request
/// calls its upstream only once its hold stands, and answers only once its settlement stands.
/// Debits stay conditional statements inside the transaction, so no balance goes below zero, on one
/// instance or many. If a batch fails, each of its writes is retried alone, so one bad write fails
/// only its own request; a settlement that fails alone is kept in the <see cref="SettlementJournal"/>
/// and retried until it commits (ADR 18), so its caller goes on as if it had committed.
/// Each hold names this instance's lease, and the writer knows which of its requests still run, so
/// a hold no request will settle is found whichever way its request ended (ADR 20).
/// </summary>
public sealed class LedgerWriter : IAsyncDisposable, IDisposable
{
    /// <summary>Caps one transaction, so a failed batch and its retries stay small.</summary>
    public const int MaxBatch = 128;

    /// <summary>
    /// Batches committing at once. SQLite has one writer per file, so one. PostgreSQL waits for its
    /// log flush on every commit; several batches in flight share those waits (the server flushes
    /// their commits together) instead of queueing behind each other.
    /// Each lane keeps one connection of the instance's pool, so the lanes take at most a quarter of
    /// it: the rest is for key lookups, the rate limiter and pages (ADR 19).
    /// </summary>
    public static int LanesFor(StoreOptions options) =>
        options.Provider == StoreProvider.Postgres ? Math.Clamp(options.PostgresMaxPoolSize / 4, 1, 4) : 1;

    /// <summary>This writer's lanes (<see cref="LanesFor"/>).</summary>
    public int Lanes => _lanes.Length;

    private readonly Channel<LedgerWrite> _queue = Channel.CreateUnbounded<LedgerWrite>();
    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly bool _syncCommits;
    private readonly bool _freshConnectionAfterOutage;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly SettlementJournal _journal;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly Task[] _lanes;
    private readonly string _instanceId;
    // Requests of this process holding (or about to hold) credits and not settled yet: what the
    // recovery must not touch when it settles this instance's own holds left in doubt (ADR 20).
    private readonly ConcurrentDictionary<string, byte> _running = new();
    private int _holdsInDoubt;
    private long _committed;
    private long _roundTrips;

    public LedgerWriter(IDbContextFactory<PortalDbContext> dbFactory, IOptions<StoreOptions> options, TimeProvider time, GatewayMetrics metrics,
        SettlementJournal journal, InstanceLeases lease, ILogger<LedgerWriter> logger)
    {
        _instanceId = lease.Id;
        _journal = journal;
        _dbFactory = dbFactory;
        _syncCommits = options.Value.SqliteSyncCommits;
        // SQLite's connection is to a file in this process: nothing cuts it, and a second attempt would
        // only wait out the busy timeout again.
        _freshConnectionAfterOutage = options.Value.Provider == StoreProvider.Postgres;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _lanes = Enumerable.Range(0, LanesFor(options.Value)).Select(_ => Task.Run(RunAsync)).ToArray();
    }

    /// <summary>Transactions committed so far (batches, and writes retried alone).</summary>
    public long CommittedTransactions => Interlocked.Read(ref _committed);

    /// <summary>Round trips to PostgreSQL the lanes' transactions took so far (ADR 39: one for a batch without holds or excess charges).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>
    /// Reserves a request's worst case before the upstream call: debits it (and adds it to the key's
    /// spend), or says why it can't. It cannot be abandoned half-way, so it takes no token.
    /// </summary>
    /// <param name="budgetPeriodStart">The key's budget period the request falls in (Unix seconds, <see cref="ApiKeys.KeyBudget"/>); 0 without a budget.</param>
    /// <param name="memberId">On an organization key, its member; <paramref name="userId"/> is then the organization.</param>
    /// <param name="memberBudgetPeriodStart">The member's budget period the request falls in; 0 when the member has no budget.</param>
    public async Task<HoldOutcome> TryHoldAsync(string userId, string? apiKeyId, string requestId, long amountMicros, long budgetPeriodStart = 0,
        string? memberId = null, long memberBudgetPeriodStart = 0)
    {
        _running[requestId] = 0; // before the hold can exist in the store
        try
        {
            var outcome = await Enqueue(new HoldWrite(userId, apiKeyId, requestId, amountMicros, _time.GetUtcNow().UtcDateTime, _instanceId, budgetPeriodStart,
                memberId, memberBudgetPeriodStart));
            if (outcome != HoldOutcome.Held)
            {
                _running.TryRemove(requestId, out _);
            }

            return outcome;
        }
        catch
        {
            // The hold may have committed all the same (an acknowledgement lost): its request is gone, so
            // nothing would settle it while this instance lives. The recovery looks (ADR 20).
            _running.TryRemove(requestId, out _);
            MarkHoldsInDoubt();
            throw;
        }
    }

    /// <summary>Whether a request of this process holds credits and has not settled: its hold is not to be touched.</summary>
    public bool IsRunning(string requestId) => _running.ContainsKey(requestId);

    /// <summary>A hold of this instance may be in the store with no request to settle it.</summary>
    public void MarkHoldsInDoubt() => Volatile.Write(ref _holdsInDoubt, 1);

    /// <summary>Whether <see cref="MarkHoldsInDoubt"/> was called since the last time this was asked.</summary>
    public bool TakeHoldsInDoubt() => Interlocked.Exchange(ref _holdsInDoubt, 0) == 1;

    /// <summary>
    /// What a running stream has delivered so far, kept in the store (ADR 20): what it is charged if its
    /// instance dies before it settles. Committed with other writes, like a hold; settle the request
    /// with <see cref="Settlement.ClearsProgress"/> once this has completed, so the row goes with it.
    /// </summary>
    public Task RecordProgressAsync(string requestId, long chargeMicros, UsageRecord record) =>
        Enqueue(new ProgressWrite(requestId, chargeMicros, RequestProgress.Serialize(record), _time.GetUtcNow().UtcDateTime));

    /// <summary>
    /// Releases the hold, charges the real cost and stores the usage record, in one transaction. A cost
    /// beyond the hold is charged from the balance as far as it and the key's spend cap go, never below
    /// zero; what they could not cover is written on the charge entry, logged and counted (ADR 13).
    /// <paramref name="record"/>'s cost is what was charged once the task completes.
    /// Settling the same request twice changes nothing.
    /// Runs to completion even when the client has gone: callers pass no request-bound token.
    /// If the store fails it, the settlement is kept in the journal and the task completes all the
    /// same (the charge stands, written later); it fails only if the journal cannot keep it either.
    /// </summary>
    public async Task SettleAsync(Settlement settlement, UsageRecord record)
    {
        try
        {
            await Enqueue(new SettleWrite(settlement, record, _time.GetUtcNow().UtcDateTime));
        }
        catch
        {
            MarkHoldsInDoubt(); // neither the store nor the journal kept it: the hold waits for the recovery
            throw;
        }
        finally
        {
            _running.TryRemove(settlement.RequestId, out _);
        }
    }

    /// <summary>Writes a journaled settlement again; fails if the store fails it again (it stays in the journal).</summary>
    internal Task RetryAsync(JournaledSettlement entry) =>
        Enqueue(new SettleWrite(entry.Settlement, entry.Record, entry.At) { FromJournal = true });

    /// <summary>Stores the usage record of a request refused before any hold (bad input, 402, 429…).</summary>
    public Task RecordAsync(UsageRecord record) => Enqueue(new RecordWrite(record));

    /// <summary>Commits what is queued, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_lanes);
    }

    // The container disposes synchronously when a host is disposed without await (tests do).
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private Task<T> Enqueue<T>(LedgerWrite<T> write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(LedgerWriter), "The ledger writer has shut down.");
        }

        return write.Task;
    }

    private async Task RunAsync()
    {
        var lane = new Lane();
        var batch = new List<LedgerWrite>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            // Whatever queued up while the previous batch committed goes into this one: no timer, so a
            // lone request never waits for company.
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count == 0)
            {
                // Every waiting lane wakes for a write and one takes it: an empty transaction would still
                // cost PostgreSQL a round trip.
                continue;
            }

            await CommitAsync(lane, batch);
            batch.Clear();
        }

        lane.Connection?.Dispose();
    }

    private async Task CommitAsync(Lane lane, List<LedgerWrite> batch)
    {
        var kept = lane.Connection is not null;
        var failure = await TryCommitOrFailureAsync(lane, batch);
        if (failure is not null && kept && _freshConnectionAfterOutage && StoreOutage.IsOutage(failure))
        {
            // The lane's connection, kept from an earlier batch, may have been cut while it waited (the
            // server restarted since): a fresh one says whether the store is there now. The batch was
            // rolled back, so it is sent again whole.
            failure = await TryCommitOrFailureAsync(lane, batch);
        }

        if (failure is null)
        {
            return;
        }

        if (StoreOutage.IsOutage(failure))
        {
            // The store is down or has no connection free: each write retried alone would wait for it
            // again, one after another. Fail them all now: their transaction never committed, so a
            // hold is refused having debited nothing (the client gets 503), and a settlement goes to
            // the journal to be written once the store is back (ADR 18).
            StoreOutage.ForgetCutConnections(failure);
            _logger.LogWarning("A ledger batch of {Count} writes failed: the store is unavailable ({Reason})", batch.Count, failure.GetBaseException().Message);
            foreach (var write in batch)
            {
                await FailAsync(write, failure);
            }

            return;
        }

        if (batch.Count == 1)
        {
            await FailAsync(batch[0], failure);
            return;
        }

        _logger.LogWarning(failure, "A ledger batch of {Count} writes failed; retrying each alone", batch.Count);
        foreach (var write in batch)
        {
            if (await TryCommitOrFailureAsync(lane, [write]) is { } alone)
            {
                await FailAsync(write, alone);
            }
        }
    }

    private async Task<Exception?> TryCommitOrFailureAsync(Lane lane, IReadOnlyList<LedgerWrite> batch)
    {
        try
        {
            await TryCommitAsync(lane, batch);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// A write that failed on its own. A settlement that finds its request already settled succeeds:
    /// settling is idempotent. Any other failed settlement goes to the journal, to be retried.
    /// </summary>
    private async Task FailAsync(LedgerWrite write, Exception error)
    {
        // In an outage the check would fail too (after waiting for a connection); the journal's retry
        // makes it once the store is back.
        var outage = StoreOutage.IsOutage(error);
        if (write is SettleWrite settle && !outage && await IsSettledAsync(settle.Settlement.RequestId))
        {
            _logger.LogWarning("Request {RequestId} was already settled", settle.Settlement.RequestId);
            settle.Complete(true);
            return;
        }

        if (!outage)
        {
            _logger.LogError(error, "A ledger write failed");
        }

        if (write is SettleWrite { FromJournal: false } failed)
        {
            try
            {
                // What it will cost once written, as far as the hold covers it; a cost beyond the hold
                // is decided when it commits (ADR 13).
                failed.Record.CostMicros = failed.WithinHold;
                _journal.Add(failed.Settlement, failed.Record, failed.Now);
                failed.Complete(true);
                return;
            }
            catch (Exception journalError)
            {
                _logger.LogError(journalError, "The settlement of request {RequestId} could not be journaled either", failed.Settlement.RequestId);
            }
        }

        write.Fail(error);
    }

    private async Task<bool> IsSettledAsync(string requestId)
    {
        try
        {
            await using var db = await _dbFactory.CreateDbContextAsync();
            return await db.Ledger.AnyAsync(e => e.RequestId == requestId && e.Kind == LedgerKind.Release);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not check whether request {RequestId} was settled", requestId);
            return false;
        }
    }

    private async Task TryCommitAsync(Lane lane, IReadOnlyList<LedgerWrite> batch)
    {
        var connection = lane.Connection ??= await LedgerConnection.OpenAsync(_dbFactory, _syncCommits, () => Interlocked.Increment(ref _roundTrips));
        try
        {
            var outcomes = await connection.RunAsync(batch);
            Interlocked.Increment(ref _committed);
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i] is SettleWrite { Excess: > 0 } settle)
                {
                    ReportExcess(settle);
                }

                batch[i].Complete(outcomes[i]);
            }
        }
        catch
        {
            // Whatever broke (a constraint, the connection), the next attempt starts on a fresh one.
            lane.Connection = null;
            connection.Dispose();
            throw;
        }
    }

    /// <summary>A cost beyond the hold means the hold's bound missed something (ADR 13): say so, and count what went unpaid.</summary>
    private void ReportExcess(SettleWrite settle)
    {
        var s = settle.Settlement;
        if (settle.Shortfall > 0)
        {
            _metrics.ChargeShortfall(settle.Record.ModelId, settle.Shortfall);
            _logger.LogWarning("Request {RequestId} cost {Cost} µ$ against a hold of {Hold} µ$; {Shortfall} µ$ of it could not be charged",
                s.RequestId, s.ChargeMicros, s.HoldMicros, settle.Shortfall);
        }
        else
        {
            _logger.LogWarning("Request {RequestId} cost {Cost} µ$ against a hold of {Hold} µ$; the excess was charged from the balance",
                s.RequestId, s.ChargeMicros, s.HoldMicros);
        }
    }

    /// <summary>One committing loop and its connection.</summary>
    private sealed class Lane
    {
        public LedgerConnection? Connection { get; set; }
    }
}
