using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Data;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// The ledger writer's group commit (ADR 6) on SQLite and PostgreSQL. To make batches certain, a test
/// holds the store's write lock while it queues writes: they pile up behind the lock and are committed
/// together once it is released.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime
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
    public Task QueuedHoldsCommitTogetherAndNeverOverdraw() => QueuedHoldsCommitTogetherAndNeverOverdrawAsync(Sqlite());

    [PostgresFact]
    public Task QueuedHoldsCommitTogetherAndNeverOverdrawOnPostgres() => QueuedHoldsCommitTogetherAndNeverOverdrawAsync(Postgres());

    [Fact]
    public Task AFailedWriteFailsOnlyItsOwnRequest() => AFailedWriteFailsOnlyItsOwnRequestAsync(Sqlite());

    [PostgresFact]
    public Task AFailedWriteFailsOnlyItsOwnRequestOnPostgres() => AFailedWriteFailsOnlyItsOwnRequestAsync(Postgres());

    [Fact]
    public Task ConcurrentRequestsSettleExactlyOnce() => ConcurrentRequestsSettleExactlyOnceAsync(Sqlite());

    [PostgresFact]
    public Task ConcurrentRequestsSettleExactlyOnceOnPostgres() => ConcurrentRequestsSettleExactlyOnceAsync(Postgres());

    [Fact]
    public Task ClientTextInARefusedRequestsRecordCommitsWithTheRestOfItsBatch() => ClientTextInARefusedRequestsRecordCommitsWithTheRestOfItsBatchAsync(Sqlite());

    [PostgresFact]
    public Task ClientTextInARefusedRequestsRecordCommitsWithTheRestOfItsBatchOnPostgres() => ClientTextInARefusedRequestsRecordCommitsWithTheRestOfItsBatchAsync(Postgres());

    [Fact]
    public async Task AnAnsweredRequestIsAlreadySettledInTheStore()
    {
        using var app = Sqlite();
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var client = app.ApiClient(account.Key);

        foreach (var stream in new[] { false, true })
        {
            var response = await client.PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":20,"stream":{{(stream ? "true" : "false")}}}""");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var requestId = response.Headers.GetValues("x-request-id").Single();

            // No waiting: the answer (or [DONE]) was only sent once the settlement had committed.
            Assert.Equal(1, await app.InStoreAsync(db => db.Ledger.CountAsync(e => e.RequestId == requestId && e.Kind == LedgerKind.Release)));
            Assert.Equal(1, await app.InStoreAsync(db => db.UsageRecords.CountAsync(r => r.RequestId == requestId && r.Status == 200)));
            Assert.EndsWith(stream ? "data: [DONE]\n\n" : "}", body);
        }

        await app.AssertLedgerConsistentAsync();
    }

    private static PortalApplication Sqlite() => new(Instant);

    private PortalApplication Postgres() => new(Instant.Concat(_database!.StoreSettings()).ToDictionary());

    private static async Task QueuedHoldsCommitTogetherAndNeverOverdrawAsync(PortalApplication app)
    {
        using var _ = app;
        var account = await app.CreateApiAccountAsync(credits: 0.001m); // 1,000 µ$
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        var before = writer.CommittedTransactions;

        Task<HoldOutcome>[] holds;
        await using (await StoreLock.TakeAsync(app, account.UserId))
        {
            holds = Enumerable.Range(0, 100).Select(i => writer.TryHoldAsync(account.UserId, account.KeyId, $"req_batch_{i}", 30)).ToArray();
        }

        var outcomes = await Task.WhenAll(holds);

        // 33 holds of 30 µ$ fit in 1,000 µ$; the rest are refused, none overdraws. The 100 writes
        // took a handful of transactions: at most one batch per lane waited on the lock, then the rest.
        Assert.Equal(33, outcomes.Count(o => o == HoldOutcome.Held));
        Assert.Equal(67, outcomes.Count(o => o == HoldOutcome.InsufficientBalance));
        Assert.Equal(10, await app.BalanceAsync(account.UserId));
        Assert.InRange(writer.CommittedTransactions - before, 1, writer.Lanes + 1);
        Assert.Equal(990, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        await app.AssertLedgerConsistentAsync();
    }

    private static async Task AFailedWriteFailsOnlyItsOwnRequestAsync(PortalApplication app)
    {
        using var _ = app;
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();

        Task<HoldOutcome>[] holds;
        Task duplicate, record;
        await using (await StoreLock.TakeAsync(app, account.UserId))
        {
            holds = Enumerable.Range(0, 20).Select(i => writer.TryHoldAsync(account.UserId, null, $"req_good_{i}", 100)).ToArray();
            // The same request id twice: the second hold breaks the (request, kind) uniqueness.
            duplicate = writer.TryHoldAsync(account.UserId, null, "req_good_3", 100);
            record = writer.RecordAsync(new UsageRecord { RequestId = "req_refused", UserId = account.UserId, ModelId = "glm-5", Status = 429, ErrorCode = "rate_limit_exceeded", Provenance = Provenance.Reported, CreatedAt = app.Time.GetUtcNow().UtcDateTime });
        }

        Assert.All(await Task.WhenAll(holds), outcome => Assert.Equal(HoldOutcome.Held, outcome));
        await record;
        await Assert.ThrowsAnyAsync<Exception>(() => duplicate);
        Assert.Equal(Money.FromUsd(1m) - 20 * 100, await app.BalanceAsync(account.UserId));
        Assert.Equal(20, await app.InStoreAsync(db => db.Ledger.CountAsync(e => e.Kind == LedgerKind.Hold)));
        Assert.Equal(1, await app.InStoreAsync(db => db.UsageRecords.CountAsync(r => r.RequestId == "req_refused")));
        await app.AssertLedgerConsistentAsync();
    }

    private static async Task ClientTextInARefusedRequestsRecordCommitsWithTheRestOfItsBatchAsync(PortalApplication app)
    {
        using var _ = app;
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        var before = writer.CommittedTransactions;
        var now = app.Time.GetUtcNow().UtcDateTime;

        Task<HoldOutcome>[] holds;
        Task[] records;
        await using (await StoreLock.TakeAsync(app, account.UserId))
        {
            holds = Enumerable.Range(0, 10).Select(i => writer.TryHoldAsync(account.UserId, account.KeyId, $"req_good_{i}", 100)).ToArray();
            // What clients wrote as their model: a NUL, and an emoji where the column's length ends.
            records =
            [
                writer.RecordAsync(UsageRecord.Refused(FrontDoor.ChatCompletions, "req_nul", account.UserId, account.KeyId, "\0", 404, "model_not_found", now)),
                writer.RecordAsync(UsageRecord.Refused(FrontDoor.Messages, "req_emoji", account.UserId, account.KeyId, new string('a', 127) + "\U0001F600", 404, "model_not_found", now)),
            ];
        }

        Assert.All(await Task.WhenAll(holds), outcome => Assert.Equal(HoldOutcome.Held, outcome));
        await Task.WhenAll(records);
        // No batch failed and was retried write by write.
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("ledger batch", StringComparison.Ordinal));
        Assert.InRange(writer.CommittedTransactions - before, 1, writer.Lanes + 1);
        var stored = await app.InStoreAsync(db => db.UsageRecords.OrderBy(r => r.RequestId).Select(r => new { r.ModelId, r.Api }).ToListAsync());
        Assert.Equal([new string('a', 127), "\uFFFD"], stored.Select(r => r.ModelId));
        Assert.Equal([FrontDoor.Messages, FrontDoor.ChatCompletions], stored.Select(r => r.Api));
        Assert.Equal(Money.FromUsd(1m) - 10 * 100, await app.BalanceAsync(account.UserId));
        await app.AssertLedgerConsistentAsync();
    }

    private static async Task ConcurrentRequestsSettleExactlyOnceAsync(PortalApplication app)
    {
        using var _ = app;
        var accounts = new List<ApiAccount>();
        for (var i = 0; i < 4; i++)
        {
            accounts.Add(await app.CreateApiAccountAsync(credits: 0.5m, key: new NewApiKey("busy", RateLimitPerMinute: 600)));
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
        {
            var stream = i % 2 == 0 ? "true" : "false";
            return app.ApiClient(accounts[i % 4].Key).PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"Request {{i}}"}],"max_tokens":30,"stream":{{stream}}}""");
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var ids = responses.Select(r => r.Headers.GetValues("x-request-id").Single()).ToHashSet();
        var records = await app.InStoreAsync(db => db.UsageRecords.ToListAsync());
        Assert.Equal(ids.Order(), records.Select(r => r.RequestId).Order());
        var releases = await app.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Release).Select(e => e.RequestId!).ToListAsync());
        Assert.Equal(ids.Order(), releases.Order());
        foreach (var account in accounts)
        {
            var charged = records.Where(r => r.UserId == account.UserId).Sum(r => r.CostMicros);
            Assert.True(charged > 0);
            Assert.Equal(Money.FromUsd(0.5m) - charged, await app.BalanceAsync(account.UserId));
            Assert.Equal(charged, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        }

        await app.AssertLedgerConsistentAsync();
    }

    /// <summary>Holds the store's write lock (SQLite) or the user's balance row (PostgreSQL) until disposed.</summary>
    private sealed class StoreLock(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction) : IAsyncDisposable
    {
        public static async Task<StoreLock> TakeAsync(PortalApplication app, string userId)
        {
            var connectionString = await app.InStoreAsync(db => Task.FromResult(db.Database.GetConnectionString()!));
            System.Data.Common.DbConnection connection = await app.InStoreAsync(db => Task.FromResult(db.Database.IsNpgsql()))
                ? new NpgsqlConnection(connectionString)
                : new SqliteConnection(connectionString);
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = connection is SqliteConnection
                ? """UPDATE "CreditBalances" SET "BalanceMicros" = "BalanceMicros" WHERE "UserId" = @u"""
                : """SELECT 1 FROM "CreditBalances" WHERE "UserId" = @u FOR UPDATE""";
            var parameter = command.CreateParameter();
            parameter.ParameterName = "u";
            parameter.Value = userId;
            command.Parameters.Add(parameter);
            await command.ExecuteNonQueryAsync();
            return new StoreLock(connection, transaction);
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.CommitAsync();
            await connection.DisposeAsync();
        }
    }
}
