using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Billing;

/// <summary>
/// The writer's own connection, kept open between batches so SQLite's prepared statements are
/// reused. On PostgreSQL a batch's statements are pipelined (ADR 39): a step goes to the server only
/// when a later step needs its answers, and the last one goes with the COMMIT, so a batch without
/// holds or excess charges is one round trip, and one with holds two: a hold with a key is one
/// statement there (ADR 40).
/// </summary>
internal sealed class LedgerConnection : IDisposable
{
    private const string Debit = """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" - @p1 WHERE "UserId" = @p0 AND "BalanceMicros" >= @p1""";
    private const string Credit = """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" + @p1 WHERE "UserId" = @p0""";
    // The key's lifetime cap and its budget that resets (ADR 29) in one conditional update: @p2 is the
    // budget period the request falls in; a later one than the row's starts the period's spend afresh
    // (no job resets it), an earlier one (a lagging clock) counts in the row's. A key without a budget
    // passes 0, which never starts a period.
    private const string KeySpend = """
        UPDATE "ApiKeys" SET "SpentMicros" = "SpentMicros" + @p1,
          "BudgetSpentMicros" = CASE WHEN @p2 > "BudgetPeriodStart" THEN @p1 ELSE "BudgetSpentMicros" + @p1 END,
          "BudgetPeriodStart" = CASE WHEN @p2 > "BudgetPeriodStart" THEN @p2 ELSE "BudgetPeriodStart" END
        WHERE "Id" = @p0 AND ("SpendCapMicros" IS NULL OR "SpentMicros" + @p1 <= "SpendCapMicros")
          AND ("BudgetMicros" IS NULL OR (CASE WHEN @p2 > "BudgetPeriodStart" THEN 0 ELSE "BudgetSpentMicros" END) + @p1 <= "BudgetMicros")
        """;
    // A refund comes off the budget only in the period its hold counted in, and never below zero: a budget
    // changed to other periods while the hold ran started afresh without it.
    private const string KeyRefund = """
        UPDATE "ApiKeys" SET "SpentMicros" = "SpentMicros" - @p1,
          "BudgetSpentMicros" = CASE WHEN "BudgetPeriodStart" = @p2 THEN (CASE WHEN "BudgetSpentMicros" > @p1 THEN "BudgetSpentMicros" - @p1 ELSE 0 END) ELSE "BudgetSpentMicros" END
        WHERE "Id" = @p0
        """;
    // An organization member's budget (their keys of the organization share it), the key's budget's
    // pattern on the member's row: @p3 is the member's period the request falls in.
    private const string MemberSpend = """
        UPDATE "OrganizationMembers" SET
          "BudgetSpentMicros" = CASE WHEN @p3 > "BudgetPeriodStart" THEN @p2 ELSE "BudgetSpentMicros" + @p2 END,
          "BudgetPeriodStart" = CASE WHEN @p3 > "BudgetPeriodStart" THEN @p3 ELSE "BudgetPeriodStart" END
        WHERE "OrganizationId" = @p0 AND "UserId" = @p1
          AND ("BudgetMicros" IS NULL OR (CASE WHEN @p3 > "BudgetPeriodStart" THEN 0 ELSE "BudgetSpentMicros" END) + @p2 <= "BudgetMicros")
        """;
    private const string MemberRefund = """
        UPDATE "OrganizationMembers" SET
          "BudgetSpentMicros" = CASE WHEN "BudgetPeriodStart" = @p3 THEN (CASE WHEN "BudgetSpentMicros" > @p2 THEN "BudgetSpentMicros" - @p2 ELSE 0 END) ELSE "BudgetSpentMicros" END
        WHERE "OrganizationId" = @p0 AND "UserId" = @p1
        """;
    // The member budget's room in period @p2; null: the member has no budget.
    private const string ReadMemberRoom = """
        UPDATE "OrganizationMembers" SET "BudgetSpentMicros" = "BudgetSpentMicros" WHERE "OrganizationId" = @p0 AND "UserId" = @p1
        RETURNING CASE WHEN "BudgetMicros" IS NULL THEN NULL
          ELSE "BudgetMicros" - (CASE WHEN @p2 > "BudgetPeriodStart" THEN 0 ELSE "BudgetSpentMicros" END) END
        """;
    // PostgreSQL: a hold with a key in one statement (ADR 40), KeySpend's and MemberSpend's text chained
    // after the debit's: the key's row is updated only if the debit happened, the member's only if the key's
    // did (an uncorrelated EXISTS: a one-time filter evaluated before the row is read, so the balance row is
    // locked first). It answers how far it got (HoldReached). @p0 the payer, @p1 the amount, @p2 the key,
    // @p3 its budget period, @p4 the member, @p5 the member's period.
    private static readonly string HoldThroughKey = HoldInOneStatement(member: false);
    private static readonly string HoldThroughMember = HoldInOneStatement(member: true);
    private const string Entry = """INSERT INTO "LedgerEntries" ("UserId", "Kind", "AmountMicros", "RequestId", "ApiKeyId", "CreatedAt", "Reason", "InstanceId") VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)""";
    // A long stream's progress (ADR 20): one row per request, replaced at each report, gone with its settlement.
    private const string Progress = """
        INSERT INTO "RequestProgress" ("RequestId", "ChargeMicros", "Record", "RecordedAt") VALUES (@p0, @p1, @p2, @p3)
        ON CONFLICT ("RequestId") DO UPDATE SET "ChargeMicros" = excluded."ChargeMicros", "Record" = excluded."Record", "RecordedAt" = excluded."RecordedAt"
        """;
    private const string ProgressDone = """DELETE FROM "RequestProgress" WHERE "RequestId" = @p0""";
    // Lock a row and read it, in the step that locks its kind of row (ADR 6's order). A write that
    // changes nothing, because SQLite has no SELECT … FOR UPDATE; only a settlement whose cost
    // exceeds its hold needs them (ADR 13).
    private const string ReadBalance = """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" WHERE "UserId" = @p0 RETURNING "BalanceMicros" """;
    // The key's room: the smaller of its cap's and its budget's in period @p1 (null: neither limits it).
    private const string ReadKeyRoom = """
        UPDATE "ApiKeys" SET "SpentMicros" = "SpentMicros" WHERE "Id" = @p0
        RETURNING CASE
          WHEN "BudgetMicros" IS NULL THEN "SpendCapMicros" - "SpentMicros"
          WHEN "SpendCapMicros" IS NULL OR "SpendCapMicros" - "SpentMicros" > "BudgetMicros" - (CASE WHEN @p1 > "BudgetPeriodStart" THEN 0 ELSE "BudgetSpentMicros" END)
            THEN "BudgetMicros" - (CASE WHEN @p1 > "BudgetPeriodStart" THEN 0 ELSE "BudgetSpentMicros" END)
          ELSE "SpendCapMicros" - "SpentMicros" END
        """;
    private const string Usage = """
        INSERT INTO "UsageRecords" ("RequestId", "UserId", "ApiKeyId", "ModelId", "Upstream", "PromptTokens", "CompletionTokens",
          "ReasoningTokens", "CachedTokens", "CostMicros", "InputPriceMicros", "OutputPriceMicros", "Stream", "LatencyMs",
          "TimeToFirstTokenMs", "Status", "ErrorCode", "Provenance", "CreatedAt", "Requests", "CachedInputPriceMicros", "EndUser", "Api", "MemberId")
        VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18, @p19, @p20, @p21, @p22, @p23)
        """;

    private readonly PortalDbContext _db;
    private readonly DbConnection _connection;
    private SqliteStatements? _sqlite;

    private readonly bool _relaxedSync;
    private readonly Action? _sent;

    private LedgerConnection(PortalDbContext db, bool relaxedSync, Action? sent)
    {
        _db = db;
        _relaxedSync = relaxedSync;
        _sent = sent;
        _connection = db.Database.GetDbConnection();
    }

    /// <param name="sent">Called for each round trip to PostgreSQL (what the writer counts).</param>
    public static async Task<LedgerConnection> OpenAsync(IDbContextFactory<PortalDbContext> dbFactory, bool syncCommits, Action? sent = null)
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

            return new LedgerConnection(db, relaxedSync, sent);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs one batch in one transaction; returns each write's outcome in batch order once it has committed.</summary>
    public async Task<object[]> RunAsync(IReadOnlyList<LedgerWrite> batch)
    {
        if (!_connection.CanCreateBatch)
        {
            // SQLite: ADO.NET's own transaction: EF's wrapper adds logging and interception events per batch.
            await using var transaction = await _connection.BeginTransactionAsync();
            var outcomes = await RunStepsAsync(batch, null);
            await transaction.CommitAsync();
            return outcomes;
        }

        // PostgreSQL: BEGIN and COMMIT are statements of the pipelined batches (ADR 39), not an NpgsqlTransaction,
        // so the COMMIT can go with the last statements. Npgsql follows the server's transaction status either way.
        var pipeline = new Pipeline();
        try
        {
            var outcomes = await RunStepsAsync(batch, pipeline);
            if (!pipeline.Committed)
            {
                await SendAsync(new Step(), pipeline, last: true);
            }

            return outcomes;
        }
        catch when (_connection.State == System.Data.ConnectionState.Open)
        {
            // A failed statement skipped the rest of its round trip, the COMMIT with it; the transaction is
            // rolled back here rather than left open (or failed) on a connection that may be used again.
            await RollBackAsync();
            throw;
        }
    }

    /// <summary>The batch's steps; on PostgreSQL (<paramref name="pipeline"/>), COMMIT goes with the last when nothing is left to check.</summary>
    private async Task<object[]> RunStepsAsync(IReadOnlyList<LedgerWrite> batch, Pipeline? pipeline)
    {
        var holds = batch.OfType<HoldWrite>().ToList();
        var settles = batch.OfType<SettleWrite>().ToList();

        // Every batch locks balances in id order, and a key's or member's row only after the balance of the
        // account that pays for it (SQLite: all balances, then keys, then members; PostgreSQL: a hold's key and
        // member right after its debit, ADR 40): batches of different instances cannot deadlock each other.
        // 1. Balances: conditional debits for holds; settlements give back what they don't charge.
        var balances = new Step();
        foreach (var hold in holds)
        {
            if (pipeline is null || hold.ApiKeyId is null)
            {
                balances.Add(hold, Debit, hold.UserId, hold.Amount);
            }
            else if (CountsAgainstMember(hold))
            {
                // PostgreSQL: debit, key and member in one statement (ADR 40), locked in that order.
                balances.AddRead(hold, HoldThroughMember, hold.UserId, hold.Amount, hold.ApiKeyId, hold.BudgetPeriodStart, hold.MemberId, hold.MemberBudgetPeriodStart);
            }
            else
            {
                balances.AddRead(hold, HoldThroughKey, hold.UserId, hold.Amount, hold.ApiKeyId, hold.BudgetPeriodStart);
            }
        }

        foreach (var settle in settles.Where(s => s.Refund > 0))
        {
            balances.Add(settle, Credit, settle.Settlement.UserId, settle.Refund);
        }

        // A cost beyond the hold (ADR 13): lock and read the balance now, charge what it covers in step 3.
        var excess = settles.Where(s => s.Excess > 0).ToList();
        foreach (var userId in excess.Select(s => s.Settlement.UserId).Distinct())
        {
            balances.AddRead(excess.First(s => s.Settlement.UserId == userId), ReadBalance, userId);
        }

        var balanceStep = await RunStepAsync(balances.InLockOrder(), pipeline);
        // How far each hold taken in one statement got; the key and member steps below leave those holds alone.
        var reached = balanceStep.Where(r => r.Sql == HoldThroughKey || r.Sql == HoldThroughMember).ToDictionary(r => r.Write, r => (HoldReached)(r.Value ?? 0));
        var debited = balanceStep.Where(r => r.Write is HoldWrite && (r.Sql == Debit ? r.Rows == 1 : reached[r.Write] > HoldReached.None)).Select(r => r.Write).ToHashSet();
        var available = balanceStep.Where(r => r.Sql == ReadBalance).ToDictionary(r => r.Key, r => Math.Max(0, r.Value ?? 0));

        // 2. Keys: spend caps, the same conditional pattern.
        var keys = new Step();
        foreach (var hold in holds.Where(h => h.ApiKeyId is not null && debited.Contains(h) && !reached.ContainsKey(h)))
        {
            keys.Add(hold, KeySpend, hold.ApiKeyId, hold.Amount, hold.BudgetPeriodStart);
        }

        foreach (var settle in settles.Where(s => s.Settlement.ApiKeyId is not null && s.Refund > 0))
        {
            keys.Add(settle, KeyRefund, settle.Settlement.ApiKeyId, settle.Refund, settle.Settlement.BudgetPeriodStart);
        }

        foreach (var keyId in excess.Select(s => s.Settlement.ApiKeyId).OfType<string>().Distinct())
        {
            var first = excess.First(s => s.Settlement.ApiKeyId == keyId);
            keys.AddRead(first, ReadKeyRoom, keyId, first.Settlement.BudgetPeriodStart);
        }

        var keyStep = await RunStepAsync(keys.InLockOrder(), pipeline);
        var overCap = keyStep.Where(r => r.Write is HoldWrite && r.Rows == 0).Select(r => r.Write)
            .Concat(reached.Where(h => h.Value == HoldReached.Debited).Select(h => h.Key)).ToHashSet();
        // A key without a cap has room for anything; a key whose row is gone is not charged.
        var keyRoom = keyStep.Where(r => r.Sql == ReadKeyRoom && r.Rows == 1).ToDictionary(r => r.Key, r => r.Value is { } room ? Math.Max(0, room) : long.MaxValue);

        // 2b. Organization members' budgets, after keys (so every batch still locks in one order): the
        // member's row, debited conditionally like the key's, only for a hold the key took. A hold counts
        // against a member budget only when the request knew of one (a period start above 0).
        var members = new Step();
        foreach (var hold in holds.Where(h => CountsAgainstMember(h) && debited.Contains(h) && !overCap.Contains(h) && !reached.ContainsKey(h)))
        {
            members.AddMember(hold, MemberSpend, hold.UserId, hold.MemberId!, hold.Amount, hold.MemberBudgetPeriodStart);
        }

        foreach (var settle in settles.Where(s => s.Settlement.MemberId is not null && s.Settlement.MemberBudgetPeriodStart > 0 && s.Refund > 0))
        {
            members.AddMember(settle, MemberRefund, settle.Settlement.UserId, settle.Settlement.MemberId!, settle.Refund, settle.Settlement.MemberBudgetPeriodStart);
        }

        foreach (var group in excess.Where(s => s.Settlement.MemberId is not null).GroupBy(s => MemberRow(s.Settlement.UserId, s.Settlement.MemberId!)))
        {
            var first = group.First().Settlement;
            members.AddMemberRead(group.First(), ReadMemberRoom, first.UserId, first.MemberId!, first.MemberBudgetPeriodStart);
        }

        var memberStep = await RunStepAsync(members.InLockOrder(), pipeline);
        var overMemberBudget = memberStep.Where(r => r.Write is HoldWrite && r.Rows == 0).Select(r => r.Write)
            .Concat(reached.Where(h => h.Value == HoldReached.KeySpent).Select(h => h.Key)).ToHashSet();
        // Only a member with a budget limits an excess charge, and only their row is charged for it.
        var memberRoom = memberStep.Where(r => r.Sql == ReadMemberRoom && r.Rows == 1 && r.Value is not null).ToDictionary(r => r.Key, r => Math.Max(0, r.Value!.Value));

        // 3. The entries: a hold refused by its key's cap gives its debit back (no entry, so the
        // balance still equals the sum of entries); the rest append ledger entries and usage records.
        var entries = new Step();
        foreach (var hold in holds.Where(debited.Contains))
        {
            if (overCap.Contains(hold))
            {
                entries.Add(hold, Credit, hold.UserId, hold.Amount);
            }
            else if (overMemberBudget.Contains(hold))
            {
                // The key took it, the member's budget did not: both give it back (rows this transaction locked).
                entries.Add(hold, Credit, hold.UserId, hold.Amount);
                entries.Add(hold, KeyRefund, hold.ApiKeyId, hold.Amount, hold.BudgetPeriodStart);
            }
            else
            {
                entries.Add(hold, Entry, hold.UserId, LedgerKind.Hold, -hold.Amount, hold.RequestId, hold.ApiKeyId, hold.Now, null, hold.InstanceId);
            }
        }

        // The excess: as much as the balance and the key's cap cover, in batch order, on rows this
        // transaction has locked; the debits are still conditional, so a miscount fails the batch
        // instead of overdrawing.
        foreach (var settle in excess)
        {
            var s = settle.Settlement;
            var room = s.ApiKeyId is { } keyId ? keyRoom.GetValueOrDefault(keyId, long.MaxValue) : long.MaxValue;
            var memberRow = s.MemberId is { } memberId ? MemberRow(s.UserId, memberId) : null;
            if (memberRow is not null && memberRoom.TryGetValue(memberRow, out var memberLeft))
            {
                room = Math.Min(room, memberLeft);
            }

            settle.ExcessCharged = Math.Min(settle.Excess, Math.Min(available.GetValueOrDefault(s.UserId), room));
            if (settle.ExcessCharged == 0)
            {
                continue;
            }

            available[s.UserId] -= settle.ExcessCharged;
            entries.AddChecked(settle, Debit, s.UserId, settle.ExcessCharged);
            if (s.ApiKeyId is { } key && keyRoom.ContainsKey(key))
            {
                keyRoom[key] -= settle.ExcessCharged;
                entries.AddChecked(settle, KeySpend, key, settle.ExcessCharged, s.BudgetPeriodStart);
            }

            if (memberRow is not null && memberRoom.ContainsKey(memberRow))
            {
                memberRoom[memberRow] -= settle.ExcessCharged;
                entries.AddChecked(settle, MemberSpend, s.UserId, s.MemberId, settle.ExcessCharged, s.MemberBudgetPeriodStart);
            }
        }

        foreach (var write in batch)
        {
            if (write is SettleWrite settle)
            {
                var s = settle.Settlement;
                entries.Add(settle, Entry, s.UserId, LedgerKind.Release, s.HoldMicros, s.RequestId, s.ApiKeyId, settle.Now, null, null);
                if (settle.Charge > 0)
                {
                    entries.Add(settle, Entry, s.UserId, LedgerKind.Charge, -settle.Charge, s.RequestId, s.ApiKeyId, settle.Now, ExcessReason(settle), null);
                }

                settle.Record.CostMicros = settle.Charge;
                AddUsage(entries, settle, settle.Record);
                if (s.ClearsProgress)
                {
                    entries.Add(settle, ProgressDone, s.RequestId);
                }
            }
            else if (write is ProgressWrite progress)
            {
                entries.Add(progress, Progress, progress.RequestId, progress.ChargeMicros, progress.Record, progress.Now);
            }
            else if (write is RecordWrite record)
            {
                AddUsage(entries, record, record.Record);
            }
        }

        var written = await RunStepAsync(entries, pipeline, last: true);
        if (written.Any(r => r.Checked && r.Rows != 1))
        {
            throw new InvalidOperationException("An excess charge found its balance or key changed inside its own transaction.");
        }

        return batch.Select(write => write switch
        {
            HoldWrite hold when !debited.Contains(hold) => (object)HoldOutcome.InsufficientBalance,
            HoldWrite hold when overCap.Contains(hold) => HoldOutcome.KeySpendCapReached,
            HoldWrite hold when overMemberBudget.Contains(hold) => HoldOutcome.MemberBudgetReached,
            HoldWrite => HoldOutcome.Held,
            _ => true,
        }).ToArray();
    }

    /// <summary>On the charge entry of a request that cost more than its hold: the user's ledger shows it (ADR 13).</summary>
    private static string? ExcessReason(SettleWrite settle)
    {
        if (settle.Excess == 0)
        {
            return null;
        }

        var s = settle.Settlement;
        var what = $"This request cost {Money.Format(s.ChargeMicros)}, more than the {Money.Format(s.HoldMicros)} held;";
        return settle.Shortfall == 0
            ? $"{what} the difference was charged from the balance."
            : $"{what} {Money.Format(settle.Shortfall)} was not charged: the balance{(s.ApiKeyId is null ? "" : " or the key's spend cap")} did not cover it.";
    }

    private static bool CountsAgainstMember(HoldWrite hold) => hold.MemberId is not null && hold.MemberBudgetPeriodStart > 0;

    private static string HoldInOneStatement(bool member)
    {
        var debit = $"d AS ({Debit} RETURNING 1)";
        var key = $"k AS ({Renumber(KeySpend, 2, 1, 3)} AND EXISTS (SELECT FROM d) RETURNING 1)";
        var reached = $"CASE WHEN NOT EXISTS (SELECT FROM d) THEN {(int)HoldReached.None} WHEN NOT EXISTS (SELECT FROM k) THEN {(int)HoldReached.Debited}";
        if (!member)
        {
            return $"WITH {debit}, {key} SELECT {reached} ELSE {(int)HoldReached.Held} END";
        }

        var memberSpend = $"m AS ({Renumber(MemberSpend, 0, 4, 1, 5)} AND EXISTS (SELECT FROM k) RETURNING 1)";
        return $"WITH {debit}, {key}, {memberSpend} SELECT {reached} WHEN NOT EXISTS (SELECT FROM m) THEN {(int)HoldReached.KeySpent} ELSE {(int)HoldReached.Held} END";
    }

    /// <summary>A statement's parameters renamed in one pass: @p<i>i</i> becomes @p<i>to[i]</i>.</summary>
    private static string Renumber(string sql, params int[] to) =>
        Regex.Replace(sql, @"@p(\d+)", m => "@p" + to[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>How a member's row is named in lock order and in the excess step: organization, then member.</summary>
    private static string MemberRow(string organizationId, string memberId) => $"{organizationId}/{memberId}";

    private static void AddUsage(Step step, LedgerWrite write, UsageRecord r) =>
        step.Add(write, Usage, r.RequestId, r.UserId, r.ApiKeyId, r.ModelId, r.Upstream, r.PromptTokens, r.CompletionTokens,
            r.ReasoningTokens, r.CachedTokens, r.CostMicros, r.InputPriceMicros, r.OutputPriceMicros, r.Stream, r.LatencyMs,
            r.TimeToFirstTokenMs, r.Status, r.ErrorCode, r.Provenance, r.CreatedAt, r.Requests, r.CachedInputPriceMicros, r.EndUser, r.Api, r.MemberId);

    /// <summary>Rows affected by each statement of the step, in order, and what a read returned.</summary>
    private async Task<IReadOnlyList<StepResult>> RunStepAsync(Step step, Pipeline? pipeline, bool last = false)
    {
        if (pipeline is not null)
        {
            return await SendAsync(step, pipeline, last);
        }

        if (step.Statements.Count == 0)
        {
            return [];
        }

        var results = new StepResult[step.Statements.Count];
        // SQLite: in-process, so no round trips to save; its statements are prepared once and run
        // synchronously through SQLitePCL (SqliteStatements).
        _sqlite ??= new SqliteStatements((SqliteConnection)_connection);
        for (var i = 0; i < results.Length; i++)
        {
            var statement = step.Statements[i];
            var (rows, value) = _sqlite.Run(statement.Sql, statement.Values, statement.Read);
            results[i] = new StepResult(statement, rows, value);
        }

        return results;
    }

    /// <summary>
    /// PostgreSQL: a step whose answers a later step needs (a hold's conditional updates, a read) goes to the
    /// server now, in one round trip with BEGIN (in the first) and the steps held back before it; any other
    /// step is held back for the next. The last goes with the COMMIT unless its checked statements must be
    /// looked at first. The statements keep their order, so rows are still locked in ADR 6's order, and a
    /// failed statement makes the server skip the rest of its round trip up to the Sync Npgsql sends at the
    /// end of the batch, the COMMIT included: nothing of the transaction commits.
    /// </summary>
    private async Task<IReadOnlyList<StepResult>> SendAsync(Step step, Pipeline pipeline, bool last)
    {
        if (!last && !step.Statements.Any(s => s.Read || s.Write is HoldWrite))
        {
            pipeline.Held.AddRange(step.Statements);
            return [];
        }

        var commit = last && !step.Statements.Any(s => s.Checked);
        await using var batch = _connection.CreateBatch();
        if (!pipeline.Begun)
        {
            Add(batch, "BEGIN", []);
        }

        foreach (var statement in pipeline.Held)
        {
            Add(batch, statement.Sql, statement.Values);
        }

        var first = batch.BatchCommands.Count;
        foreach (var statement in step.Statements)
        {
            Add(batch, statement.Sql, statement.Values);
        }

        if (commit)
        {
            Add(batch, "COMMIT", []);
        }

        pipeline.Begun = true;
        pipeline.Held.Clear();
        pipeline.Committed = commit;
        _sent?.Invoke();
        var results = new StepResult[step.Statements.Count];
        var values = new long?[results.Length];
        if (step.Statements.Any(s => s.Read))
        {
            // The reads' result sets come in statement order; statements without rows have none
            // (or an empty one: FieldCount 0).
            await using var reader = await batch.ExecuteReaderAsync();
            var reads = Enumerable.Range(0, results.Length).Where(i => step.Statements[i].Read).GetEnumerator();
            do
            {
                if (reader.FieldCount > 0 && reads.MoveNext())
                {
                    values[reads.Current] = await reader.ReadAsync() && !reader.IsDBNull(0) ? reader.GetInt64(0) : null;
                }
            }
            while (await reader.NextResultAsync());
        }
        else
        {
            await batch.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < results.Length; i++)
        {
            results[i] = new StepResult(step.Statements[i], batch.BatchCommands[first + i].RecordsAffected, values[i]);
        }

        return results;
    }

    private static void Add(DbBatch batch, string sql, object?[] values)
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

    private async Task RollBackAsync()
    {
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "ROLLBACK";
            _sent?.Invoke();
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            // The connection broke: the server ends the transaction with it, and the writer opens a new one.
        }
    }

    public void Dispose()
    {
        _sqlite?.Dispose();

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

    /// <summary>One statement: the first value is the row it locks; a read returns one number; a checked one must change one row.</summary>
    /// <param name="Lock">The row it locks when that is not the first value alone (a member's: organization and member).</param>
    private sealed record Statement(LedgerWrite Write, string Sql, object?[] Values, bool Read = false, bool Checked = false, string? Lock = null)
    {
        public string Row => Lock ?? (string)Values[0]!;
    }

    private readonly record struct StepResult(Statement Statement, int Rows, long? Value)
    {
        public LedgerWrite Write => Statement.Write;
        public string Sql => Statement.Sql;
        public string Key => Statement.Row;
        public bool Checked => Statement.Checked;
    }

    /// <summary>How far a hold taken in one statement got: what it changed, in lock order.</summary>
    private enum HoldReached
    {
        /// <summary>The balance did not cover it: nothing changed.</summary>
        None = 0,
        /// <summary>Debited, but the key's cap or budget refused it.</summary>
        Debited = 1,
        /// <summary>Debited and spent on the key, but the member's budget refused it.</summary>
        KeySpent = 2,
        Held = 3,
    }

    /// <summary>A PostgreSQL batch's transaction as it goes out: whether BEGIN and COMMIT were sent, and the statements not sent yet.</summary>
    private sealed class Pipeline
    {
        public bool Begun { get; set; }

        public bool Committed { get; set; }

        public List<Statement> Held { get; } = [];
    }

    /// <summary>Statements sent together.</summary>
    private sealed class Step
    {
        public List<Statement> Statements { get; private set; } = [];

        public void Add(LedgerWrite write, string sql, params object?[] values) => Statements.Add(new(write, sql, values));

        public void AddRead(LedgerWrite write, string sql, string row, params object?[] more) => Statements.Add(new(write, sql, [row, .. more], Read: true));

        public void AddChecked(LedgerWrite write, string sql, params object?[] values) => Statements.Add(new(write, sql, values, Checked: true));

        public void AddMember(LedgerWrite write, string sql, string organizationId, string memberId, params object?[] more) =>
            Statements.Add(new(write, sql, [organizationId, memberId, .. more], Lock: MemberRow(organizationId, memberId)));

        public void AddMemberRead(LedgerWrite write, string sql, string organizationId, string memberId, params object?[] more) =>
            Statements.Add(new(write, sql, [organizationId, memberId, .. more], Read: true, Lock: MemberRow(organizationId, memberId)));

        /// <summary>Sorted by the row each statement locks (stable, so one row's statements keep their order).</summary>
        public Step InLockOrder()
        {
            Statements = Statements.OrderBy(s => s.Row, StringComparer.Ordinal).ToList();
            return this;
        }
    }
}
