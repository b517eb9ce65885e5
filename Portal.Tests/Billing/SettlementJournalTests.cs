using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// A settlement the store fails is not lost (ADR 18): it is kept in the settlement journal, written
/// again until it commits, moved to the dead-letter file if the store keeps refusing it, and replayed
/// by the next process if this one dies first.
/// </summary>
public sealed class SettlementJournalTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Instant = new() { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" };
    private PostgresTestDatabase? _database;

    public Task InitializeAsync()
    {
        if (PostgresTestDatabase.TestsRun)
        {
            _database = new PostgresTestDatabase();
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public Task ASettlementTheStoreFailsIsRetriedUntilItLandsWithItsCharge() => ASettlementTheStoreFailsIsRetriedUntilItLandsWithItsChargeAsync(Sqlite());

    [PostgresFact]
    public Task ASettlementTheStoreFailsIsRetriedUntilItLandsWithItsChargeOnPostgres() => ASettlementTheStoreFailsIsRetriedUntilItLandsWithItsChargeAsync(Postgres());

    [Fact]
    public Task ASettlementTheStoreKeepsRefusingIsDeadLetteredAndCounted() => ASettlementTheStoreKeepsRefusingIsDeadLetteredAndCountedAsync(Sqlite());

    [PostgresFact]
    public Task ASettlementTheStoreKeepsRefusingIsDeadLetteredAndCountedOnPostgres() => ASettlementTheStoreKeepsRefusingIsDeadLetteredAndCountedAsync(Postgres());

    [Fact]
    public async Task AJournalLeftByAKilledProcessIsReplayedAtStartUpBeforeTheSweep()
    {
        string copy, secret;
        ApiAccount account;
        JournaledSettlement owed;
        using (var dead = Sqlite())
        {
            account = await dead.CreateApiAccountAsync(credits: 1m);
            var writer = dead.Services.GetRequiredService<LedgerWriter>();
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_journaled", 10_000));
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_unknown", 5_000));
            owed = new JournaledSettlement(new Settlement(account.UserId, account.KeyId, "req_journaled", 10_000, 4_000),
                Record(dead, account, "req_journaled", Provenance.Estimated), dead.Time.GetUtcNow().UtcDateTime);
            copy = await CopyOfDatabaseAsync(dead);
            secret = await File.ReadAllTextAsync(Path.Combine(dead.DataFolder, "keyring.key"));
        }

        // The process died with one failed settlement journaled, and was killed in the middle of the next line.
        using var restarted = Sqlite();
        File.Move(copy, Path.Combine(restarted.DataFolder, "portal.db"));
        await File.WriteAllTextAsync(Path.Combine(restarted.DataFolder, "keyring.key"), secret);
        var journal = Path.Combine(restarted.DataFolder, SettlementJournal.FileName);
        await File.WriteAllTextAsync(journal, Line("settle", owed) + "\n" + Line("settle", owed)[..40]);

        var record = await restarted.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_journaled"));

        Assert.Equal((4_000, Provenance.Estimated, 200), (record.CostMicros, record.Provenance, record.Status));
        Assert.Equal("interrupted", await restarted.InStoreAsync(db => db.UsageRecords.Where(r => r.RequestId == "req_unknown").Select(r => r.ErrorCode).SingleAsync()));
        Assert.Equal(Money.FromUsd(1m) - 4_000, await restarted.BalanceAsync(account.UserId));
        Assert.Equal(0, (await restarted.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        Assert.Equal(4_000, await restarted.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        Assert.False(File.Exists(journal), "the drained journal was left behind");
        await restarted.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ADeadStreamIsChargedTheProgressItRecordedNotReleasedForNothing()
    {
        string copy, secret;
        ApiAccount account;
        JournaledSettlement progress;
        using (var dead = Sqlite())
        {
            account = await dead.CreateApiAccountAsync(credits: 1m);
            Assert.Equal(HoldOutcome.Held, await dead.Services.GetRequiredService<LedgerWriter>().TryHoldAsync(account.UserId, account.KeyId, "req_streaming", 10_000));
            var delivered = Record(dead, account, "req_streaming", Provenance.Partial);
            delivered.ErrorCode = "interrupted";
            progress = new JournaledSettlement(new Settlement(account.UserId, account.KeyId, "req_streaming", 10_000, 2_500), delivered, dead.Time.GetUtcNow().UtcDateTime);
            copy = await CopyOfDatabaseAsync(dead);
            secret = await File.ReadAllTextAsync(Path.Combine(dead.DataFolder, "keyring.key"));
        }

        // The process was killed mid-stream, after the stream had recorded its progress.
        using var restarted = Sqlite();
        File.Move(copy, Path.Combine(restarted.DataFolder, "portal.db"));
        await File.WriteAllTextAsync(Path.Combine(restarted.DataFolder, "keyring.key"), secret);
        await File.WriteAllTextAsync(Path.Combine(restarted.DataFolder, SettlementJournal.FileName), Line("progress", progress) + "\n");

        var record = await restarted.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_streaming"));

        Assert.Equal((2_500, Provenance.Partial, "interrupted"), (record.CostMicros, record.Provenance, record.ErrorCode));
        Assert.Equal(Money.FromUsd(1m) - 2_500, await restarted.BalanceAsync(account.UserId));
        Assert.False(File.Exists(Path.Combine(restarted.DataFolder, SettlementJournal.FileName)), "spent progress was left in the journal");
        await restarted.AssertLedgerConsistentAsync();
    }

    private static async Task ASettlementTheStoreFailsIsRetriedUntilItLandsWithItsChargeAsync(PortalApplication app)
    {
        using var _ = app;
        app.Time.TimersFollowClock = true;
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_refused_once", 10_000));
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_fine", 10_000));

        Task settled, fine;
        await using (await RefusedUsageRecord.InstallAsync(app, "req_refused_once"))
        {
            // Queued together: the failed batch is retried write by write, and only one of them fails.
            settled = writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_refused_once", 10_000, 3_000), Record(app, account, "req_refused_once", Provenance.Reported));
            fine = writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_fine", 10_000, 1_000), Record(app, account, "req_fine", Provenance.Reported));
            await Task.WhenAll(settled, fine); // the caller goes on: its settlement is kept

            Assert.Equal(0, await app.InStoreAsync(db => db.Ledger.CountAsync(e => e.RequestId == "req_refused_once" && e.Kind == LedgerKind.Release)));
            Assert.Equal(["req_refused_once"], app.Services.GetRequiredService<SettlementJournal>().Pending.Select(p => p.Settlement.RequestId));
            Assert.Contains("req_refused_once", await File.ReadAllTextAsync(Path.Combine(app.DataFolder, SettlementJournal.FileName)));
        }

        // The store takes it again; the retry's next turn writes it.
        app.Time.Advance(SettlementRetry.Interval);
        var record = await WaitForRecordAsync(app, "req_refused_once");

        Assert.Equal((3_000, 200), (record.CostMicros, record.Status));
        Assert.Equal(Money.FromUsd(1m) - 4_000, await app.BalanceAsync(account.UserId));
        Assert.Equal(4_000, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        Assert.Empty(app.Services.GetRequiredService<SettlementJournal>().Pending);
        Assert.False(File.Exists(Path.Combine(app.DataFolder, SettlementJournal.FileName)), "the drained journal was left behind");
        await app.AssertLedgerConsistentAsync();
    }

    private static async Task ASettlementTheStoreKeepsRefusingIsDeadLetteredAndCountedAsync(PortalApplication app)
    {
        using var _ = app;
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        var retry = app.Services.GetRequiredService<SettlementRetry>();
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_never", 10_000));
        await using var refused = await RefusedUsageRecord.InstallAsync(app, "req_never");
        await writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_never", 10_000, 3_000), Record(app, account, "req_never", Provenance.Reported));

        for (var attempt = 1; attempt < SettlementRetry.MaxRefusals; attempt++)
        {
            Assert.Equal(0, await retry.DrainAsync(all: true));
            Assert.Single(app.Services.GetRequiredService<SettlementJournal>().Pending);
        }

        Assert.Equal(0, await retry.DrainAsync(all: true));

        Assert.Empty(app.Services.GetRequiredService<SettlementJournal>().Pending);
        var dead = await File.ReadAllTextAsync(Path.Combine(app.DataFolder, SettlementJournal.DeadLetterFileName));
        Assert.Contains("req_never", dead);
        Assert.Contains(app.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Critical && e.Message.Contains("req_never", StringComparison.Ordinal));
        app.RemoteIp = System.Net.IPAddress.Loopback; // /metrics answers loopback only
        var metrics = await app.CreateClient().GetStringAsync("/metrics");
        Assert.Equal(["1"], metrics.Split('\n').Where(l => l.StartsWith("portal_settlements_dead_total", StringComparison.Ordinal)).Select(l => l[(l.LastIndexOf(' ') + 1)..]));
        // Not charged, not released: the hold waits for an operator (or the stale-hold sweep).
        Assert.Equal(10_000, (await app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        await app.AssertLedgerConsistentAsync();
    }

    private static PortalApplication Sqlite() => new(Instant);

    private PortalApplication Postgres() => new(Instant.Concat(_database!.StoreSettings()).ToDictionary());

    private static UsageRecord Record(PortalApplication app, ApiAccount account, string requestId, string provenance) => new()
    {
        RequestId = requestId,
        UserId = account.UserId,
        ApiKeyId = account.KeyId,
        ModelId = "glm-5",
        PromptTokens = 10,
        CompletionTokens = 20,
        Status = 200,
        Provenance = provenance,
        CreatedAt = app.Time.GetUtcNow().UtcDateTime,
    };

    /// <summary>A journal line as the journal writes it: its type and the settlement.</summary>
    internal static string Line(string type, JournaledSettlement entry) =>
        JsonSerializer.Serialize(new { type, entry }, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    internal static async Task<UsageRecord> WaitForRecordAsync(PortalApplication app, string requestId)
    {
        for (var waited = 0; waited < 200; waited++)
        {
            if (await app.InStoreAsync(db => db.UsageRecords.FirstOrDefaultAsync(r => r.RequestId == requestId)) is { } record)
            {
                return record;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"request {requestId} was never settled");
    }

    /// <summary>A consistent copy of a running Portal's SQLite database, outside its data folder.</summary>
    internal static async Task<string> CopyOfDatabaseAsync(PortalApplication app)
    {
        var copy = Path.Combine(Path.GetTempPath(), $"portal-copy-{Guid.NewGuid():N}.db");
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataFolder, "portal.db")};Pooling=False");
        await connection.OpenAsync();
        await using var vacuum = new SqliteCommand($"VACUUM INTO '{copy}'", connection);
        await vacuum.ExecuteNonQueryAsync();
        return copy;
    }

    /// <summary>A trigger that makes the store refuse one request's usage record, as a constraint would, until disposed.</summary>
    private sealed class RefusedUsageRecord(PortalApplication app) : IAsyncDisposable
    {
        public static async Task<RefusedUsageRecord> InstallAsync(PortalApplication app, string requestId)
        {
            // A request id of the test's own, not client text.
            var postgres = $"""
                CREATE FUNCTION refuse_usage() RETURNS trigger AS $$
                BEGIN
                  IF NEW."RequestId" = '{requestId}' THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '23514'; END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse_usage BEFORE INSERT ON "UsageRecords" FOR EACH ROW EXECUTE FUNCTION refuse_usage();
                """;
            var sqlite = $"""
                CREATE TRIGGER refuse_usage BEFORE INSERT ON "UsageRecords" WHEN NEW."RequestId" = '{requestId}'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
                """;
            await app.InStoreAsync(db => db.Database.ExecuteSqlRawAsync(db.Database.IsNpgsql() ? postgres : sqlite));
            return new RefusedUsageRecord(app);
        }

        public async ValueTask DisposeAsync() =>
            await app.InStoreAsync(db => db.Database.ExecuteSqlRawAsync(db.Database.IsNpgsql()
                ? """DROP TRIGGER refuse_usage ON "UsageRecords"; DROP FUNCTION refuse_usage();"""
                : "DROP TRIGGER refuse_usage;"));
    }
}
