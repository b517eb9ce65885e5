using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Data;
using Portal.Organizations;
using Portal.Tests.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Billing;

/// <summary>
/// The PostgreSQL ledger batch pipelined (ADR 39, with a hold in one statement: ADR 40): a step goes to the server only when a later one needs
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
    public async Task ABatchOfSettlementsCommitsInOneRoundTripAndAHoldInTwo()
    {
        using var app = Postgres();
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var writer = app.Services.GetRequiredService<LedgerWriter>();

        // A hold with a key: its debit and the key's conditional spend in one statement (ADR 40), whose
        // answer the entries need; then the entry with the COMMIT.
        var (trips, transactions) = (writer.RoundTrips, writer.CommittedTransactions);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(account.UserId, account.KeyId, $"req_{i}", 10_000));
        }

        Assert.Equal(20, writer.CommittedTransactions - transactions);
        Assert.Equal(2 * 20, writer.RoundTrips - trips);

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
    public async Task AHoldCountingAgainstAMembersBudgetTakesTwoRoundTripsToo()
    {
        using var app = Postgres();
        var organization = await app.CreateOrganizationAsync(credits: 1m);
        var member = await app.AddMemberWithKeyAsync(organization);
        await SetMemberBudgetAsync(app, organization.Id, member.UserId, 100_000);
        var writer = app.Services.GetRequiredService<LedgerWriter>();

        var (trips, transactions) = (writer.RoundTrips, writer.CommittedTransactions);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(organization.Id, member.KeyId, $"req_{i}", 10_000, memberId: member.UserId, memberBudgetPeriodStart: Period));
        }

        // The budget is spent: refused by the member's row, the key's spend and the debit given back, in two round trips all the same.
        Assert.Equal(HoldOutcome.MemberBudgetReached, await writer.TryHoldAsync(organization.Id, member.KeyId, "req_over", 10_000, memberId: member.UserId, memberBudgetPeriodStart: Period));
        Assert.Equal(11, writer.CommittedTransactions - transactions);
        Assert.Equal(2 * 11, writer.RoundTrips - trips);
        Assert.Equal(Money.FromUsd(1m) - 100_000, await app.BalanceAsync(organization.Id));
        Assert.Equal(100_000, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == member.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        var row = await app.InStoreAsync(db => db.OrganizationMembers.AsNoTracking().SingleAsync(m => m.OrganizationId == organization.Id && m.UserId == member.UserId));
        Assert.Equal((Period, 100_000L), (row.BudgetPeriodStart, row.BudgetSpentMicros));
        await app.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task HoldsOfOneBatchChangeExactlyWhatEachHeldForOneUserAndForSeveral()
    {
        // One lane, so the writes queued behind the locked balances go out as one batch.
        var settings = _database!.StoreSettings();
        settings["Store:ConnectionString"] += ";Maximum Pool Size=6";
        using var app = new PortalApplication(settings);
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        Assert.Equal(1, writer.Lanes);
        var ada = await app.CreateApiAccountAsync(credits: 0.1m); // 100,000 µ$
        await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == ada.KeyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.SpendCapMicros, 30_000L)));
        var bob = await app.CreateApiAccountAsync(credits: 0.05m);
        var organization = await app.CreateOrganizationAsync(credits: 0.1m);
        var member = await app.AddMemberWithKeyAsync(organization);
        await SetMemberBudgetAsync(app, organization.Id, member.UserId, 25_000);
        var blocker = await app.CreateApiAccountAsync(credits: 0.01m);

        List<(Task<HoldOutcome> Hold, HoldOutcome Expected)> holds;
        var transactions = writer.CommittedTransactions;
        await using (await BalanceLock.TakeAsync(app, blocker.UserId))
        {
            // The lane's first batch waits on the lock; everything after it piles up into the next one.
            var first = writer.TryHoldAsync(blocker.UserId, blocker.KeyId, "req_first", 1_000);
            await Task.Delay(200);
            Task<HoldOutcome> Hold(string userId, string? keyId, string id, long amount, string? memberId = null) =>
                writer.TryHoldAsync(userId, keyId, id, amount, memberId: memberId, memberBudgetPeriodStart: memberId is null ? 0 : Period);
            holds =
            [
                (first, HoldOutcome.Held),
                // Whatever their order, each of these ends one way: more than the balance; beyond the key's
                // cap but within the balance; within both; without a key (the plain debit).
                (Hold(ada.UserId, ada.KeyId, "req_broke", 200_000), HoldOutcome.InsufficientBalance),
                (Hold(ada.UserId, ada.KeyId, "req_capped", 40_000), HoldOutcome.KeySpendCapReached),
                (Hold(ada.UserId, ada.KeyId, "req_held", 20_000), HoldOutcome.Held),
                (Hold(ada.UserId, null, "req_playground", 10_000), HoldOutcome.Held),
                (Hold(bob.UserId, bob.KeyId, "req_all", 50_000), HoldOutcome.Held),
                (Hold(organization.Id, member.KeyId, "req_member_over", 30_000, member.UserId), HoldOutcome.MemberBudgetReached),
                (Hold(organization.Id, member.KeyId, "req_member_held", 20_000, member.UserId), HoldOutcome.Held),
                (Hold(organization.Id, member.KeyId, "req_member_broke", 150_000, member.UserId), HoldOutcome.InsufficientBalance),
            ];
            await Task.Delay(200);
        }

        Assert.Equal(holds.Select(h => h.Expected), await Task.WhenAll(holds.Select(h => h.Hold)));
        Assert.Equal(2, writer.CommittedTransactions - transactions);

        Task<long> KeySpent(string keyId) => app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.SpentMicros).SingleAsync());
        Assert.Equal(100_000 - 20_000 - 10_000, await app.BalanceAsync(ada.UserId));
        Assert.Equal(20_000, await KeySpent(ada.KeyId));
        Assert.Equal(0, await app.BalanceAsync(bob.UserId));
        Assert.Equal(50_000, await KeySpent(bob.KeyId));
        Assert.Equal(100_000 - 20_000, await app.BalanceAsync(organization.Id));
        Assert.Equal(20_000, await KeySpent(member.KeyId));
        Assert.Equal(20_000, await app.InStoreAsync(db => db.OrganizationMembers
            .Where(m => m.OrganizationId == organization.Id && m.UserId == member.UserId).Select(m => m.BudgetSpentMicros).SingleAsync()));
        // Only the holds that stood left ledger entries.
        Assert.Equal(["req_all", "req_first", "req_held", "req_member_held", "req_playground"],
            await app.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Hold).OrderBy(e => e.RequestId).Select(e => e.RequestId!).ToListAsync()));
        await app.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task TwoWritersHoldingAndSettlingOnTheSameAccountsInOppositeOrdersNeitherDeadlockNorOverdraw()
    {
        using var app = Postgres();
        var ada = await app.CreateApiAccountAsync(credits: 0.5m);
        await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == ada.KeyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.SpendCapMicros, 300_000L)));
        var organization = await app.CreateOrganizationAsync(credits: 0.5m);
        var member = await app.AddMemberWithKeyAsync(organization);
        await SetMemberBudgetAsync(app, organization.Id, member.UserId, 350_000);
        var lease = ActivatorUtilities.CreateInstance<InstanceLeases>(app.Services);
        await lease.RegisterAsync();
        await using var other = ActivatorUtilities.CreateInstance<LedgerWriter>(app.Services, lease);
        var writers = new[] { app.Services.GetRequiredService<LedgerWriter>(), other };
        (string Payer, string Key, string? Member)[] accounts = [(ada.UserId, ada.KeyId, null), (organization.Id, member.KeyId, member.UserId)];

        // Each writer's clients take a hold on one account, then on the other (the second writer's the other way
        // round), and settle both: some for less than held, some for more (ADR 13's reads of balance, key and
        // member), until the balances, the key's cap or the member's budget refuse them.
        var running = System.Diagnostics.Stopwatch.StartNew();
        var served = 0;
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<(string Payer, HoldOutcome Outcome), int>();
        async Task ClientAsync(LedgerWriter writer, bool reversed, int client)
        {
            var random = new Random(client);
            for (var i = 0; running.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                var pair = reversed ? [accounts[1], accounts[0]] : accounts;
                var held = new List<(string Payer, string Key, string? Member, string Request, long Amount)>();
                foreach (var (payer, key, memberId) in pair)
                {
                    var request = $"req_{client}_{i}_{key}";
                    var amount = random.Next(1_000, 8_000);
                    var outcome = await writer.TryHoldAsync(payer, key, request, amount, memberId: memberId, memberBudgetPeriodStart: memberId is null ? 0 : Period);
                    outcomes.AddOrUpdate((payer, outcome), 1, (_, n) => n + 1);
                    if (outcome == HoldOutcome.Held)
                    {
                        held.Add((payer, key, memberId, request, amount));
                    }
                }

                await Task.WhenAll(held.Select(h => writer.SettleAsync(
                    new Settlement(h.Payer, h.Key, h.Request, h.Amount, h.Amount * random.Next(20, 160) / 100, MemberId: h.Member, MemberBudgetPeriodStart: h.Member is null ? 0 : Period),
                    Record(app, h.Payer, h.Key, h.Request))));
                Interlocked.Add(ref served, held.Count);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 16).Select(client => Task.Run(() => ClientAsync(writers[client % 2], reversed: client % 2 == 1, client))));

        // A deadlock (or any failed batch) is logged by the writer as it retries the batch's writes alone or
        // journals a settlement; only the excess charges' warnings are expected.
        Assert.All(app.Logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Category.StartsWith("Portal.Billing", StringComparison.Ordinal)),
            e => Assert.Contains("against a hold of", e.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Entries, e => e.AllText().Contains("deadlock", StringComparison.OrdinalIgnoreCase));
        Assert.InRange(served, 100, int.MaxValue);
        // Both limits were reached and then refused holds under contention (here: after ~80 holds each, then ~1,500 refusals).
        Assert.Contains((ada.UserId, HoldOutcome.KeySpendCapReached), outcomes.Keys);
        Assert.Contains((organization.Id, HoldOutcome.MemberBudgetReached), outcomes.Keys);
        await app.AssertLedgerConsistentAsync(); // no balance below zero, each the sum of its entries
        Assert.Equal(0, await app.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Hold).CountAsync())
            - await app.InStoreAsync(db => db.Ledger.Where(e => e.Kind == LedgerKind.Release).CountAsync()));
        // Each key's spend is what its requests were charged: nothing a refused hold took stayed on it.
        foreach (var (payer, key, memberId) in accounts)
        {
            var charged = await app.InStoreAsync(db => db.UsageRecords.Where(r => r.ApiKeyId == key).SumAsync(r => r.CostMicros));
            var charges = await app.InStoreAsync(db => db.Ledger.Where(e => e.ApiKeyId == key && e.Kind == LedgerKind.Charge).SumAsync(e => -e.AmountMicros));
            Assert.Equal(charged, charges);
            Assert.Equal(charged, await app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == key).Select(k => k.SpentMicros).SingleAsync()));
            if (memberId is null)
            {
                Assert.InRange(charged, 1, 300_000);
            }
            else
            {
                Assert.Equal(charged, await app.InStoreAsync(db => db.OrganizationMembers
                    .Where(m => m.OrganizationId == payer && m.UserId == memberId).Select(m => m.BudgetSpentMicros).SingleAsync()));
                Assert.InRange(charged, 1, 350_000);
            }
        }
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

    /// <summary>A member budget period's start (Unix seconds): the same for every hold of a test.</summary>
    private const long Period = 1_795_000_000;

    private PortalApplication Postgres() => new(_database!.StoreSettings());

    private static Task<int> SetMemberBudgetAsync(PortalApplication app, string organizationId, string memberId, long micros) =>
        app.InStoreAsync(db => db.OrganizationMembers.Where(m => m.OrganizationId == organizationId && m.UserId == memberId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.BudgetPeriod, BudgetPeriod.Day).SetProperty(m => m.BudgetMicros, micros)));

    private static UsageRecord Record(PortalApplication app, string payer, string keyId, string requestId) => new()
    {
        RequestId = requestId,
        UserId = payer,
        ApiKeyId = keyId,
        ModelId = "glm-5",
        PromptTokens = 10,
        CompletionTokens = 20,
        Status = 200,
        Provenance = Provenance.Reported,
        CreatedAt = app.Time.GetUtcNow().UtcDateTime,
    };

    private static UsageRecord Record(PortalApplication app, ApiAccount account, string requestId) => Record(app, account.UserId, account.KeyId, requestId);

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
