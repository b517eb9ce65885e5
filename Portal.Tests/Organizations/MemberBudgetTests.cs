using System.ClientModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Store;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Organizations;

/// <summary>
/// An organization member's budget that resets, shared by all their keys of the organization, through
/// the official OpenAI SDK: the hold's conditional debit of the member's row stops every key of theirs
/// with a 402 naming the member budget and its reset; other members go on; the next period allows again;
/// concurrent requests of two keys never spend past it; settlement gives back the unused part; a
/// recovered hold's record names the member. On SQLite and PostgreSQL.
/// </summary>
public abstract class MemberBudgetTests : StoreAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    private static readonly ChatCompletionOptions Small = new() { MaxOutputTokenCount = 100 };

    private OrganizationMembers Members => App.Services.GetRequiredService<OrganizationMembers>();

    [Fact]
    public virtual async Task TheMembersBudgetStopsAllTheirKeysWithA402NamingItOthersGoOnAndTheNextDayAllowsAgain()
    {
        // Each request holds about $0.0005 and costs less: four or five fit in $0.002.
        var budget = Money.FromUsd(0.002m);
        var organization = await App.CreateOrganizationAsync(credits: 5m);
        var ada = await App.AddMemberWithKeyAsync(organization);
        var second = await App.Organizations().CreateKeyAsync(OrganizationFixtures.ActorFor(ada.UserId), organization.Id, new NewApiKey("second"));
        var bob = await App.AddMemberWithKeyAsync(organization);
        var set = await Members.SetBudgetAsync(OrganizationFixtures.ActorFor(organization.OwnerId), organization.Id, ada.UserId, new KeyBudget(BudgetPeriod.Day, budget));
        Assert.True(set.Done, set.Message);
        var chats = new[] { App.OpenAiChat(ada.Key), App.OpenAiChat(second!.Value.Plaintext) };

        ClientResultException? refused = null;
        var served = 0;
        for (var i = 0; i < 50 && refused is null; i++)
        {
            try
            {
                await chats[i % 2].CompleteChatAsync([new UserChatMessage("Hello")], Small);
                served++;
            }
            catch (ClientResultException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.InRange(served, 2, 20);
        Assert.Equal(402, refused.Status);
        // 2026-11-22 09:30 UTC on the test's clock: the member's day comes back at midnight.
        Assert.Matches(@"Your daily member budget in this organization, \$0\.002, (is spent|has \$[0-9.]+ left) until 2026-11-23T00:00:00Z", refused.Message);
        Assert.Contains("insufficient_quota", refused.GetRawResponse()!.Content.ToString());
        // Whichever key asks now, the shared budget refuses it; the key's own spend never reached any limit of its own.
        var other = await Assert.ThrowsAsync<ClientResultException>(() => chats[served % 2 == 0 ? 1 : 0].CompleteChatAsync([new UserChatMessage("Hello")], Small));
        Assert.Contains("member budget", other.Message);

        var row = await MemberRowAsync(organization.Id, ada.UserId);
        var keyIds = new[] { ada.KeyId, second.Value.Key.Id };
        var charged = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.MemberId == ada.UserId).SumAsync(r => r.CostMicros));
        // Both keys spent, and the row counts what was charged, not what was held: settlement gave the rest back.
        foreach (var id in keyIds)
        {
            Assert.True(await App.InStoreAsync(db => db.UsageRecords.AnyAsync(r => r.ApiKeyId == id && r.CostMicros > 0)));
        }

        Assert.Equal(charged, row.BudgetSpentMicros);
        Assert.InRange(charged, 1, budget);
        Assert.Equal(new KeyBudget(BudgetPeriod.Day, budget).PeriodStartAt(App.Time.GetUtcNow().UtcDateTime), row.BudgetPeriodStart);
        // The refused holds left nothing behind on the keys either.
        var keysSpent = await App.InStoreAsync(db => db.ApiKeys.Where(k => keyIds.Contains(k.Id)).SumAsync(k => k.SpentMicros));
        Assert.Equal(charged, keysSpent);

        // Another member of the organization is not limited by it.
        await App.OpenAiChat(bob.Key).CompleteChatAsync([new UserChatMessage("Hello")], Small);

        // GET /api/v1/key shows the member's budget beside the key's (which it has none of).
        var reply = await (await App.ApiClient(second.Value.Plaintext).GetAsync("/api/v1/key")).JsonBodyAsync();
        var shown = reply["data"]!["member_budget"]!;
        Assert.Null(reply["data"]!["budget"]);
        Assert.Equal((0.002m, "day", Money.ToUsd(charged), new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), "UTC"),
            (shown["amount"]!.GetValue<decimal>(), shown["period"]!.GetValue<string>(), shown["spent"]!.GetValue<decimal>(),
             shown["resets_at"]!.GetValue<long>(), shown["time_zone"]!.GetValue<string>()));
        Assert.Null((await (await App.ApiClient(bob.Key).GetAsync("/api/v1/key")).JsonBodyAsync())["data"]!["member_budget"]);

        App.Time.Advance(TimeSpan.FromHours(14.5) + TimeSpan.FromSeconds(1)); // 2026-11-23 00:00:01
        await chats[0].CompleteChatAsync([new UserChatMessage("Hello again")], Small);

        row = await MemberRowAsync(organization.Id, ada.UserId);
        var today = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.MemberId == ada.UserId).OrderByDescending(r => r.Id).Select(r => r.CostMicros).FirstAsync());
        Assert.Equal(today, row.BudgetSpentMicros);
        Assert.Equal(new KeyBudget(BudgetPeriod.Day, budget).PeriodStartAt(App.Time.GetUtcNow().UtcDateTime), row.BudgetPeriodStart);
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task ConcurrentRequestsOfTheMembersTwoKeysNeverSpendPastTheirBudget()
    {
        var budget = Money.FromUsd(0.005m);
        var organization = await App.CreateOrganizationAsync(credits: 5m);
        var ada = await App.AddMemberWithKeyAsync(organization);
        var second = await App.Organizations().CreateKeyAsync(OrganizationFixtures.ActorFor(ada.UserId), organization.Id, new NewApiKey("second"));
        var set = await Members.SetBudgetAsync(OrganizationFixtures.ActorFor(organization.OwnerId), organization.Id, ada.UserId, new KeyBudget(BudgetPeriod.Week, budget));
        Assert.True(set.Done, set.Message);
        var clients = new[] { App.ApiClient(ada.Key), App.ApiClient(second!.Value.Plaintext) };

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            clients[i % 2].PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":100}"""))));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.PaymentRequired);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.PaymentRequired, $"{r.StatusCode}"));
        var refusal = await responses.First(r => r.StatusCode == HttpStatusCode.PaymentRequired).Content.ReadAsStringAsync();
        // 2026-11-22 is a Sunday: the week (from Monday) ends at midnight.
        Assert.Contains("weekly member budget in this organization, $0.005,", refusal);
        Assert.Contains("until 2026-11-23T00:00:00Z", refusal);
        var charged = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.MemberId == ada.UserId).SumAsync(r => r.CostMicros));
        Assert.InRange(charged, 1, budget);
        Assert.Equal(charged, (await MemberRowAsync(organization.Id, ada.UserId)).BudgetSpentMicros);
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task AKeysOwnBudgetAndTheMembersBothHoldAndTheTighterOneIsNamed()
    {
        var organization = await App.CreateOrganizationAsync(credits: 5m);
        var ada = await App.AddMemberWithKeyAsync(organization, key: new NewApiKey("tight", Budget: new KeyBudget(BudgetPeriod.Month, Money.FromUsd(0.001m))));
        var set = await Members.SetBudgetAsync(OrganizationFixtures.ActorFor(organization.OwnerId), organization.Id, ada.UserId, new KeyBudget(BudgetPeriod.Month, Money.FromUsd(1m)));
        Assert.True(set.Done, set.Message);
        var chat = App.OpenAiChat(ada.Key);

        ClientResultException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try
            {
                await chat.CompleteChatAsync([new UserChatMessage("Hello")], Small);
            }
            catch (ClientResultException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains("This key's monthly budget of $0.001", refused.Message);
        // The member's row counted exactly what the key did: the key's refusals never reached it.
        var key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Id == ada.KeyId));
        Assert.Equal(key.BudgetSpentMicros, (await MemberRowAsync(organization.Id, ada.UserId)).BudgetSpentMicros);
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task AHoldRecoveredAfterItsInstanceDiedRecordsItsMember()
    {
        var organization = await App.CreateOrganizationAsync(credits: 1m);
        var ada = await App.AddMemberWithKeyAsync(organization);
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(organization.Id, ada.KeyId, "req_dead", 1_000, memberId: ada.UserId));
        // As if its instance were gone: a hold naming no instance, old enough for any sweep.
        await App.InStoreAsync(db => db.Ledger.Where(e => e.RequestId == "req_dead").ExecuteUpdateAsync(s => s.SetProperty(e => e.InstanceId, (string?)null)));

        Assert.Equal(1, await App.Services.GetRequiredService<CreditsLedger>().SettleOrphanedHoldsAsync(new OrphanedHolds(UnownedBefore: App.Time.GetUtcNow().UtcDateTime)));

        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_dead"));
        Assert.Equal((organization.Id, ada.KeyId, ada.UserId, "interrupted"), (record.UserId, record.ApiKeyId, record.MemberId, record.ErrorCode));
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task AChargeBeyondTheHoldIsLimitedByTheMembersRoom()
    {
        var organization = await App.CreateOrganizationAsync(credits: 1m);
        var ada = await App.AddMemberWithKeyAsync(organization);
        var budget = new KeyBudget(BudgetPeriod.Day, 1_000);
        Assert.True((await Members.SetBudgetAsync(OrganizationFixtures.ActorFor(organization.OwnerId), organization.Id, ada.UserId, budget)).Done);
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var start = budget.PeriodStartAt(App.Time.GetUtcNow().UtcDateTime);
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(organization.Id, ada.KeyId, "req_over", 400, memberId: ada.UserId, memberBudgetPeriodStart: start));

        // The upstream reported a cost of 5,000 against a hold of 400 (ADR 13).
        var record = Portal.Tests.Billing.BillingTests.Record("req_over", organization.Id);
        record.ApiKeyId = ada.KeyId;
        record.MemberId = ada.UserId;
        await writer.SettleAsync(new Settlement(organization.Id, ada.KeyId, "req_over", 400, 5_000, MemberId: ada.UserId, MemberBudgetPeriodStart: start), record);

        // The hold and as much more as the member's 1,000 a day has room for; the balance had plenty.
        Assert.Equal(1_000, record.CostMicros);
        Assert.Equal(1_000, (await MemberRowAsync(organization.Id, ada.UserId)).BudgetSpentMicros);
        Assert.Equal(Money.FromUsd(1m) - 1_000, await App.BalanceAsync(organization.Id));
        await App.AssertLedgerConsistentAsync();
    }

    private Task<OrganizationMember> MemberRowAsync(string organizationId, string memberId) =>
        App.InStoreAsync(db => db.OrganizationMembers.AsNoTracking().SingleAsync(m => m.OrganizationId == organizationId && m.UserId == memberId));
}

public sealed class SqliteMemberBudgetTests : MemberBudgetTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresMemberBudgetTests : MemberBudgetTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task TheMembersBudgetStopsAllTheirKeysWithA402NamingItOthersGoOnAndTheNextDayAllowsAgain() =>
        base.TheMembersBudgetStopsAllTheirKeysWithA402NamingItOthersGoOnAndTheNextDayAllowsAgain();

    [PostgresFact]
    public override Task ConcurrentRequestsOfTheMembersTwoKeysNeverSpendPastTheirBudget() => base.ConcurrentRequestsOfTheMembersTwoKeysNeverSpendPastTheirBudget();

    [PostgresFact]
    public override Task AKeysOwnBudgetAndTheMembersBothHoldAndTheTighterOneIsNamed() => base.AKeysOwnBudgetAndTheMembersBothHoldAndTheTighterOneIsNamed();

    [PostgresFact]
    public override Task AHoldRecoveredAfterItsInstanceDiedRecordsItsMember() => base.AHoldRecoveredAfterItsInstanceDiedRecordsItsMember();

    [PostgresFact]
    public override Task AChargeBeyondTheHoldIsLimitedByTheMembersRoom() => base.AChargeBeyondTheHoldIsLimitedByTheMembersRoom();
}
