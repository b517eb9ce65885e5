using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// The PostgreSQL ledger batch pipelined (ADR 39): a step goes to the server only when a later one needs
/// its answers, and the last goes with the COMMIT. The writer counts its round trips. As in
/// <see cref="GroupCommitTests"/>, a test holds the user's balance row while it queues writes, so they
/// pile up and commit together once it is released.
/// </summary>
public sealed class PipelinedLedgerBatchTests : IAsyncLifetime
{
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

    [PostgresFact]
    public async Task ABatchOfSettlementsCommitsInOneRoundTripAndAHoldInThree()
    {
        using var app = Postgres();
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();

        // A hold with a key: its debit, the key's conditional spend (each answer needed by the next step),
        // then the entry with the COMMIT.
        var (trips, transactions) = (writer.RoundTrips, writer.CommittedTransactions);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, $"req_{i}", 10_000));
        }

        Assert.Equal(20, writer.CommittedTransactions - transactions);
        Assert.Equal(3 * 20, writer.RoundTrips - trips);

        // Settlements (refunds to the balance and the key), a stream's progress and a refused request's record:
        // nothing waits for an answer, so each transaction is BEGIN, every statement and COMMIT in one round trip.
        (trips, transactions) = (writer.RoundTrips, writer.CommittedTransactions);
        var now = app.Time.GetUtcNow().UtcDateTime;
        List<Task> writes;
        await using (await BalanceLock.TakeAsync(app, account.UserId))
        {
            writes = Enumerable.Range(0, 20)
                .Select(i => writer.SettleAsync(new Settlement(account.UserId, account.KeyId, $"req_{i}", 10_000, 1_000 + i), Record(app, account, $"req_{i}")))
                .ToList();
            writes.Add(writer.RecordProgressAsync("req_streaming", 500, Record(app, account, "req_streaming")));
            writes.Add(writer.RecordAsync(UsageRecord.Refused(FrontDoor.ChatCompletions, "req_refused", account.UserId, account.KeyId, "nope", 404, "model_not_found", now)));
        }

        await Task.WhenAll(writes);

        var committed = writer.CommittedTransactions - transactions;
        Assert.InRange(committed, 1, writer.Lanes + 1); // batches of several writes, not one per write
        Assert.Equal(committed, writer.RoundTrips - trips);
        var charged = Enumerable.Range(0, 20).Sum(i => 1_000L + i);
        Assert.Equal(Money.FromUsd(1m) - charged, await app.BalanceAsync(account.UserId));
        Assert.Equal(charged, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        Assert.Equal(21, await app.InStoreAsync(db => db.UsageRecords.CountAsync()));
        Assert.Equal(500, await app.InStoreAsync(db => db.RequestProgress.Where(p => p.RequestId == "req_streaming").Select(p => p.ChargeMicros).SingleAsync()));
        await app.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task ABatchWhoseLastRoundTripFailsCommitsNothingAndItsWritesAreRetriedAlone()
    {
        using var app = Postgres();
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        for (var i = 0; i < 21; i++)
        {
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, $"req_{i}", 10_000));
        }

        await writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_20", 10_000, 5_000), Record(app, account, "req_20"));

        List<Task> settlements;
        Task duplicate;
        await using (await BalanceLock.TakeAsync(app, account.UserId))
        {
            settlements = Enumerable.Range(0, 20)
                .Select(i => writer.SettleAsync(new Settlement(account.UserId, account.KeyId, $"req_{i}", 10_000, 1_000), Record(app, account, $"req_{i}")))
                .ToList();
            // Settled already: its release entry breaks the (request, kind) uniqueness in the round trip that
            // carries the COMMIT, so the server skips the COMMIT and that batch commits nothing.
            duplicate = writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_20", 10_000, 9_000), Record(app, account, "req_20"));
        }

        await Task.WhenAll(settlements);
        await duplicate; // settling twice changes nothing

        Assert.Contains(app.Logs.Entries, e => e.Message.Contains("retrying each alone", StringComparison.Ordinal));
        // Had any of the failed batch committed, its writes retried alone would have found themselves settled.
        Assert.Equal(["Request req_20 was already settled"], app.Logs.Entries.Where(e => e.Message.Contains("already settled", StringComparison.Ordinal)).Select(e => e.Message));
        Assert.Equal(21, await app.InStoreAsync(db => db.Ledger.CountAsync(e => e.Kind == LedgerKind.Release)));
        Assert.Equal(Money.FromUsd(1m) - 20 * 1_000 - 5_000, await app.BalanceAsync(account.UserId));
        Assert.Equal(20 * 1_000 + 5_000, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        Assert.Equal(5_000, await app.InStoreAsync(db => db.UsageRecords.Where(r => r.RequestId == "req_20").Select(r => r.CostMicros).SingleAsync()));
        await app.AssertLedgerConsistentAsync();

        // The writer goes on: its next transactions start afresh.
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, "req_after", 10_000));
        await writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_after", 10_000, 1_000), Record(app, account, "req_after"));
        await app.AssertLedgerConsistentAsync();
    }

    private PortalApplication Postgres() => new(_database!.StoreSettings());

    private static UsageRecord Record(PortalApplication app, ApiAccount account, string requestId) => new()
    {
        RequestId = requestId,
        UserId = account.UserId,
        ApiKeyId = account.KeyId,
        ModelId = "glm-5",
        PromptTokens = 10,
        CompletionTokens = 20,
        Status = 200,
        Provenance = Provenance.Reported,
        CreatedAt = app.Time.GetUtcNow().UtcDateTime,
    };

    /// <summary>Holds the user's balance row until disposed: the writer's batches wait behind it.</summary>
    private sealed class BalanceLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public static async Task<BalanceLock> TakeAsync(PortalApplication app, string userId)
        {
            var connection = new NpgsqlConnection(await app.InStoreAsync(db => Task.FromResult(db.Database.GetConnectionString()!)));
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand("""SELECT 1 FROM "CreditBalances" WHERE "UserId" = @u FOR UPDATE""", connection, transaction);
            command.Parameters.AddWithValue("u", userId);
            await command.ExecuteNonQueryAsync();
            return new BalanceLock(connection, transaction);
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.CommitAsync();
            await connection.DisposeAsync();
        }
    }
}
