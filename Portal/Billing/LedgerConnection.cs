using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Billing;

/// <summary>
/// The writer's own connection, kept open between batches so SQLite's prepared statements are
/// reused; on PostgreSQL each step of a batch goes to the server in one round trip.
/// </summary>
internal sealed class LedgerConnection : IDisposable
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
    public async Task<object[]> RunAsync(IReadOnlyList<LedgerWrite> batch)
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

    private static void AddUsage(Step step, LedgerWrite write, UsageRecord r) =>
        step.Add(write, Usage, r.RequestId, r.UserId, r.ApiKeyId, r.ModelId, r.Upstream, r.PromptTokens, r.CompletionTokens,
            r.ReasoningTokens, r.CachedTokens, r.CostMicros, r.InputPriceMicros, r.OutputPriceMicros, r.Stream, r.LatencyMs,
            r.TimeToFirstTokenMs, r.Status, r.ErrorCode, r.Provenance, r.CreatedAt);

    /// <summary>Rows affected by each statement of the step, in order.</summary>
    private async Task<IReadOnlyList<(LedgerWrite Write, int Rows)>> RunStepAsync(Step step, DbTransaction transaction)
    {
        if (step.Statements.Count == 0)
        {
            return [];
        }

        var rows = new (LedgerWrite, int)[step.Statements.Count];
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
        public List<(LedgerWrite Write, string Sql, object?[] Values)> Statements { get; private set; } = [];

        public void Add(LedgerWrite write, string sql, params object?[] values) => Statements.Add((write, sql, values));

        /// <summary>Sorted by the row each statement locks (stable, so one user's writes keep their order).</summary>
        public Step InLockOrder()
        {
            Statements = Statements.OrderBy(s => (string)s.Values[0]!, StringComparer.Ordinal).ToList();
            return this;
        }
    }
}
