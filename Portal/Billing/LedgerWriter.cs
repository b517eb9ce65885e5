using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Usage;

namespace Portal.Billing;

/// <summary>
/// Group commit for the gateway's ledger writes (ADR 6): a writer takes every hold, settlement and
/// usage record waiting in its queue and commits them in one transaction, so a busy gateway pays one
/// commit (and on PostgreSQL a few round trips) for many requests instead of several per request.
/// SQLite has one such writer; PostgreSQL a few (<see cref="LanesFor"/>).
/// A caller's task completes only after the transaction holding its write has committed: a request
/// calls its upstream only once its hold stands, and answers only once its settlement stands.
/// Debits stay conditional statements inside the transaction, so no balance goes below zero, on one
/// instance or many. If a batch fails, each of its writes is retried alone, so one bad write fails
/// only its own request.
/// </summary>
public sealed class LedgerWriter : IAsyncDisposable, IDisposable
{
    /// <summary>Caps one transaction, so a failed batch and its retries stay small.</summary>
    public const int MaxBatch = 128;

    /// <summary>
    /// Batches committing at once. SQLite has one writer per file, so one. PostgreSQL waits for its
    /// log flush on every commit; several batches in flight share those waits (the server flushes
    /// their commits together) instead of queueing behind each other.
    /// </summary>
    public static int LanesFor(StoreProvider provider) => provider == StoreProvider.Postgres ? 4 : 1;

    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>();
    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly bool _syncCommits;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly Task[] _lanes;
    private long _committed;

    public LedgerWriter(IDbContextFactory<PortalDbContext> dbFactory, IOptions<StoreOptions> options, ILogger<LedgerWriter> logger)
    {
        _dbFactory = dbFactory;
        _syncCommits = options.Value.SqliteSyncCommits;
        _logger = logger;
        _lanes = Enumerable.Range(0, LanesFor(options.Value.Provider)).Select(_ => Task.Run(RunAsync)).ToArray();
    }

    /// <summary>Transactions committed so far (batches, and writes retried alone).</summary>
    public long CommittedTransactions => Interlocked.Read(ref _committed);

    /// <summary>Debits a request's worst case (and adds it to the key's spend), or says why it can't.</summary>
    public Task<HoldOutcome> HoldAsync(string userId, string? apiKeyId, string requestId, long amountMicros, DateTime now) =>
        Enqueue(new HoldWrite(userId, apiKeyId, requestId, amountMicros, now));

    /// <summary>Releases a hold, charges <paramref name="chargeMicros"/> (≤ the hold) and stores the usage record.</summary>
    public Task SettleAsync(Settlement settlement, long chargeMicros, UsageRecord record, DateTime now) =>
        Enqueue(new SettleWrite(settlement, chargeMicros, record, now));

    /// <summary>Stores the usage record of a request that held nothing.</summary>
    public Task RecordAsync(UsageRecord record) => Enqueue(new RecordWrite(record));

    /// <summary>Commits what is queued, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_lanes);
    }

    // The container disposes synchronously when a host is disposed without await (tests do).
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private Task<T> Enqueue<T>(Write<T> write)
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
        var batch = new List<Write>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            // Whatever queued up while the previous batch committed goes into this one: no timer, so a
            // lone request never waits for company.
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            await CommitAsync(lane, batch);
            batch.Clear();
        }

        lane.Connection?.Dispose();
    }

    private async Task CommitAsync(Lane lane, List<Write> batch)
    {
        try
        {
            await TryCommitAsync(lane, batch);
            return;
        }
        catch (Exception e) when (batch.Count > 1)
        {
            _logger.LogWarning(e, "A ledger batch of {Count} writes failed; retrying each alone", batch.Count);
        }
        catch (Exception e)
        {
            await FailAsync(batch[0], e);
            return;
        }

        foreach (var write in batch)
        {
            try
            {
                await TryCommitAsync(lane, [write]);
            }
            catch (Exception e)
            {
                await FailAsync(write, e);
            }
        }
    }

    /// <summary>A write that failed on its own. A settlement that finds its request already settled succeeds: settling is idempotent.</summary>
    private async Task FailAsync(Write write, Exception error)
    {
        if (write is SettleWrite settle && await IsSettledAsync(settle.Settlement.RequestId))
        {
            _logger.LogWarning("Request {RequestId} was already settled", settle.Settlement.RequestId);
            settle.Complete(true);
            return;
        }

        _logger.LogError(error, "A ledger write failed");
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

    private async Task TryCommitAsync(Lane lane, IReadOnlyList<Write> batch)
    {
        var connection = lane.Connection ??= await LedgerConnection.OpenAsync(_dbFactory, _syncCommits);
        try
        {
            var outcomes = await connection.RunAsync(batch);
            Interlocked.Increment(ref _committed);
            for (var i = 0; i < batch.Count; i++)
            {
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

    /// <summary>One committing loop and its connection.</summary>
    private sealed class Lane
    {
        public LedgerConnection? Connection { get; set; }
    }

    // ---- writes -----------------------------------------------------------------------------------

    private abstract class Write
    {
        public abstract void Complete(object outcome);
        public abstract void Fail(Exception error);
    }

    private abstract class Write<T> : Write
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<T> Task => _done.Task;
        public override void Complete(object outcome) => _done.TrySetResult((T)outcome);
        public override void Fail(Exception error) => _done.TrySetException(error);
    }

    private sealed class HoldWrite(string userId, string? apiKeyId, string requestId, long amount, DateTime now) : Write<HoldOutcome>
    {
        public string UserId { get; } = userId;
        public string? ApiKeyId { get; } = apiKeyId;
        public string RequestId { get; } = requestId;
        public long Amount { get; } = amount;
        public DateTime Now { get; } = now;
    }

    private sealed class SettleWrite(Settlement settlement, long charge, UsageRecord record, DateTime now) : Write<bool>
    {
        public Settlement Settlement { get; } = settlement;
        public long Charge { get; } = charge;
        public long Refund => Settlement.HoldMicros - Charge;
        public UsageRecord Record { get; } = record;
        public DateTime Now { get; } = now;
    }

    private sealed class RecordWrite(UsageRecord record) : Write<bool>
    {
        public UsageRecord Record { get; } = record;
    }

    // ---- the connection and its statements ------------------------------------------------------

    /// <summary>
    /// The writer's own connection, kept open between batches so SQLite's prepared statements are
    /// reused; on PostgreSQL each step of a batch goes to the server in one round trip.
    /// </summary>
    private sealed class LedgerConnection : IDisposable
    {
        private const string Debit = """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" - @p1 WHERE "UserId" = @p0 AND "BalanceMicros" >= @p1""";
        private const string Credit = """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" + @p1 WHERE "UserId" = @p0""";
        private const string KeySpend = """UPDATE "ApiKeys" SET "SpentMicros" = "SpentMicros" + @p1 WHERE "Id" = @p0 AND ("SpendCapMicros" IS NULL OR "SpentMicros" + @p1 <= "SpendCapMicros")""";
        private const string KeyRefund = """UPDATE "ApiKeys" SET "SpentMicros" = "SpentMicros" - @p1 WHERE "Id" = @p0""";
        private const string Entry = """INSERT INTO "LedgerEntries" ("UserId", "Kind", "AmountMicros", "RequestId", "ApiKeyId", "CreatedAt") VALUES (@p0, @p1, @p2, @p3, @p4, @p5)""";
        private const string Usage = """
            INSERT INTO "UsageRecords" ("RequestId", "UserId", "ApiKeyId", "ModelId", "Upstream", "PromptTokens", "CompletionTokens",
              "ReasoningTokens", "CachedTokens", "CostMicros", "InputPriceMicros", "OutputPriceMicros", "Stream", "LatencyMs",
              "TimeToFirstTokenMs", "Status", "ErrorCode", "Provenance", "CreatedAt")
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18)
            """;

        private readonly PortalDbContext _db;
        private readonly DbConnection _connection;
        private readonly Dictionary<string, DbCommand> _prepared = [];

        private readonly bool _relaxedSync;

        private LedgerConnection(PortalDbContext db, bool relaxedSync)
        {
            _db = db;
            _relaxedSync = relaxedSync;
            _connection = db.Database.GetDbConnection();
        }

        public static async Task<LedgerConnection> OpenAsync(IDbContextFactory<PortalDbContext> dbFactory, bool syncCommits)
        {
            var db = await dbFactory.CreateDbContextAsync();
            try
            {
                await db.Database.OpenConnectionAsync();
                var relaxedSync = db.Database.IsSqlite() && !syncCommits;
                if (relaxedSync)
                {
                    // WAL with synchronous=NORMAL: a commit is in the log file when it returns, so it
                    // survives the process dying; only an OS crash or power cut can lose the newest
                    // commits (never corrupting the file). FULL would add an fsync per batch (ADR 6).
                    await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous=NORMAL;");
                }

                return new LedgerConnection(db, relaxedSync);
            }
            catch
            {
                await db.DisposeAsync();
                throw;
            }
        }

        /// <summary>Runs one batch in one transaction; returns each write's outcome in batch order.</summary>
        public async Task<object[]> RunAsync(IReadOnlyList<Write> batch)
        {
            // ADO.NET's own transaction: EF's wrapper adds logging and interception events per batch.
            await using var transaction = await _connection.BeginTransactionAsync();
            var holds = batch.OfType<HoldWrite>().ToList();
            var settles = batch.OfType<SettleWrite>().ToList();

            // Every batch locks balances, then keys, each in id order: batches of different instances
            // on PostgreSQL take their row locks in one order and cannot deadlock each other.
            // 1. Balances: conditional debits for holds; settlements give back what they don't charge.
            var balances = new Step();
            foreach (var hold in holds)
            {
                balances.Add(hold, Debit, hold.UserId, hold.Amount);
            }

            foreach (var settle in settles.Where(s => s.Refund > 0))
            {
                balances.Add(settle, Credit, settle.Settlement.UserId, settle.Refund);
            }

            var debited = (await RunStepAsync(balances.InLockOrder(), transaction)).Where(r => r.Write is HoldWrite && r.Rows == 1).Select(r => r.Write).ToHashSet();

            // 2. Keys: spend caps, the same conditional pattern.
            var keys = new Step();
            foreach (var hold in holds.Where(h => h.ApiKeyId is not null && debited.Contains(h)))
            {
                keys.Add(hold, KeySpend, hold.ApiKeyId, hold.Amount);
            }

            foreach (var settle in settles.Where(s => s.Settlement.ApiKeyId is not null && s.Refund > 0))
            {
                keys.Add(settle, KeyRefund, settle.Settlement.ApiKeyId, settle.Refund);
            }

            var overCap = (await RunStepAsync(keys.InLockOrder(), transaction)).Where(r => r.Write is HoldWrite && r.Rows == 0).Select(r => r.Write).ToHashSet();

            // 3. The entries: a hold refused by its key's cap gives its debit back (no entry, so the
            // balance still equals the sum of entries); the rest append ledger entries and usage records.
            var entries = new Step();
            foreach (var hold in holds.Where(debited.Contains))
            {
                if (overCap.Contains(hold))
                {
                    entries.Add(hold, Credit, hold.UserId, hold.Amount);
                }
                else
                {
                    entries.Add(hold, Entry, hold.UserId, LedgerKind.Hold, -hold.Amount, hold.RequestId, hold.ApiKeyId, hold.Now);
                }
            }

            foreach (var write in batch)
            {
                if (write is SettleWrite settle)
                {
                    var s = settle.Settlement;
                    entries.Add(settle, Entry, s.UserId, LedgerKind.Release, s.HoldMicros, s.RequestId, s.ApiKeyId, settle.Now);
                    if (settle.Charge > 0)
                    {
                        entries.Add(settle, Entry, s.UserId, LedgerKind.Charge, -settle.Charge, s.RequestId, s.ApiKeyId, settle.Now);
                    }

                    AddUsage(entries, settle, settle.Record);
                }
                else if (write is RecordWrite record)
                {
                    AddUsage(entries, record, record.Record);
                }
            }

            await RunStepAsync(entries, transaction);
            await transaction.CommitAsync();

            return batch.Select(write => write switch
            {
                HoldWrite hold when !debited.Contains(hold) => (object)HoldOutcome.InsufficientBalance,
                HoldWrite hold when overCap.Contains(hold) => HoldOutcome.KeySpendCapReached,
                HoldWrite => HoldOutcome.Held,
                _ => true,
            }).ToArray();
        }

        private static void AddUsage(Step step, Write write, UsageRecord r) =>
            step.Add(write, Usage, r.RequestId, r.UserId, r.ApiKeyId, r.ModelId, r.Upstream, r.PromptTokens, r.CompletionTokens,
                r.ReasoningTokens, r.CachedTokens, r.CostMicros, r.InputPriceMicros, r.OutputPriceMicros, r.Stream, r.LatencyMs,
                r.TimeToFirstTokenMs, r.Status, r.ErrorCode, r.Provenance, r.CreatedAt);

        /// <summary>Rows affected by each statement of the step, in order.</summary>
        private async Task<IReadOnlyList<(Write Write, int Rows)>> RunStepAsync(Step step, DbTransaction transaction)
        {
            if (step.Statements.Count == 0)
            {
                return [];
            }

            var rows = new (Write, int)[step.Statements.Count];
            if (_connection.CanCreateBatch)
            {
                // PostgreSQL: the whole step in one round trip.
                await using var batch = _connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var (_, sql, values) in step.Statements)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = sql;
                    for (var i = 0; i < values.Length; i++)
                    {
                        var parameter = command.CreateParameter();
                        parameter.ParameterName = "p" + i;
                        parameter.Value = values[i] ?? DBNull.Value;
                        command.Parameters.Add(parameter);
                    }

                    batch.BatchCommands.Add(command);
                }

                await batch.ExecuteNonQueryAsync();
                for (var i = 0; i < rows.Length; i++)
                {
                    rows[i] = (step.Statements[i].Write, batch.BatchCommands[i].RecordsAffected);
                }

                return rows;
            }

            // SQLite: in-process, so no round trips to save; prepared statements are reused instead.
            for (var i = 0; i < rows.Length; i++)
            {
                var (write, sql, values) = step.Statements[i];
                var command = Prepared(sql, values.Length);
                command.Transaction = transaction;
                for (var p = 0; p < values.Length; p++)
                {
                    command.Parameters[p].Value = values[p] ?? DBNull.Value;
                }

                rows[i] = (write, await command.ExecuteNonQueryAsync());
            }

            return rows;
        }

        private DbCommand Prepared(string sql, int parameters)
        {
            if (!_prepared.TryGetValue(sql, out var command))
            {
                command = _connection.CreateCommand();
                command.CommandText = sql;
                for (var i = 0; i < parameters; i++)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = "@p" + i;
                    command.Parameters.Add(parameter);
                }

                _prepared[sql] = command;
            }

            return command;
        }

        public void Dispose()
        {
            foreach (var command in _prepared.Values)
            {
                command.Dispose();
            }

            if (_relaxedSync)
            {
                try
                {
                    // The connection goes back to the pool: other writers keep SQLite's default.
                    _db.Database.ExecuteSqlRaw("PRAGMA synchronous=FULL;");
                }
                catch (Exception e) when (e is DbException or InvalidOperationException)
                {
                    // A broken connection is not reused by anyone.
                }
            }

            _db.Database.CloseConnection();
            _db.Dispose();
        }

        /// <summary>Statements sent together; the first value of each is the row it locks.</summary>
        private sealed class Step
        {
            public List<(Write Write, string Sql, object?[] Values)> Statements { get; private set; } = [];

            public void Add(Write write, string sql, params object?[] values) => Statements.Add((write, sql, values));

            /// <summary>Sorted by the row each statement locks (stable, so one user's writes keep their order).</summary>
            public Step InLockOrder()
            {
                Statements = Statements.OrderBy(s => (string)s.Values[0]!, StringComparer.Ordinal).ToList();
                return this;
            }
        }
    }
}
