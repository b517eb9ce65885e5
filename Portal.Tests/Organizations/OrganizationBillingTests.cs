using System.ClientModel;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Organizations;

/// <summary>
/// An organization pays for its keys (ADR 34): its own balance and ledger, held and settled with the
/// same conditional debits as a user's, so several members spending at once never overdraw it; its
/// keys' budgets still hold. On SQLite and PostgreSQL.
/// </summary>
public abstract class OrganizationBillingTests : StoreAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    private static readonly ChatCompletionOptions Small = new() { MaxOutputTokenCount = 100 };

    [Fact]
    public virtual async Task AnOrganizationKeySpendsTheOrganizationsBalanceAndTheRecordNamesTheMember()
    {
        var organization = await App.CreateOrganizationAsync(credits: 5m);
        var member = await App.AddMemberWithKeyAsync(organization);

        var reply = await App.OpenAiChat(member.Key).CompleteChatAsync([new UserChatMessage("Hello")], Small);

        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync());
        Assert.Equal((organization.Id, member.UserId, member.KeyId), (record.UserId, record.MemberId, record.ApiKeyId));
        Assert.Equal((reply.Value.Usage.InputTokenCount, reply.Value.Usage.OutputTokenCount), (record.PromptTokens, record.CompletionTokens));
        var cost = Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros);
        Assert.True(cost > 0);
        Assert.Equal(cost, record.CostMicros);
        Assert.Equal(Money.FromUsd(5m) - cost, await App.BalanceAsync(organization.Id));
        // The member's own account is untouched: no balance, no ledger entry.
        Assert.Equal(0, await App.BalanceAsync(member.UserId));
        Assert.Equal(0, await App.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == member.UserId)));
        Assert.Equal(cost, await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == member.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        var charge = await App.InStoreAsync(db => db.Ledger.SingleAsync(e => e.Kind == LedgerKind.Charge));
        Assert.Equal((organization.Id, -cost, member.KeyId), (charge.UserId, charge.AmountMicros, charge.ApiKeyId));

        // The key's credits are the organization's.
        var credits = JsonNode.Parse(await (await App.ApiClient(member.Key).GetAsync("/api/v1/credits")).Content.ReadAsStringAsync())!["data"]!;
        Assert.Equal(Money.ToUsd(Money.FromUsd(5m) - cost), credits["balance"]!.GetValue<decimal>());
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task TheAdminsGrantToAnOrganizationIsInItsLedgerAndTheAuditLog()
    {
        var organization = await App.CreateOrganizationAsync(name: "Grant Co", credits: 12.5m);

        var grant = await App.InStoreAsync(db => db.Ledger.SingleAsync(e => e.UserId == organization.Id));
        Assert.Equal((LedgerKind.Grant, Money.FromUsd(12.5m), "team credits"), (grant.Kind, grant.AmountMicros, grant.Reason));
        Assert.NotNull(grant.ActorId);
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.CreditsGrant));
        Assert.Equal((OrganizationService.TargetOf(organization.Id), grant.ActorId), (entry.Target, entry.ActorId));
        Assert.Equal(1, await App.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationCreate && e.Target == entry.Target)));
    }

    [Fact]
    public virtual async Task AnOrganizationKeysBudgetStopsItWhileTheOrganizationStillHasCredit()
    {
        var organization = await App.CreateOrganizationAsync(credits: 5m);
        var member = await App.AddMemberWithKeyAsync(organization, key: new NewApiKey("capped", Budget: new KeyBudget(BudgetPeriod.Month, Money.FromUsd(0.002m))));
        var chat = App.OpenAiChat(member.Key);

        ClientResultException? refused = null;
        for (var i = 0; i < 50 && refused is null; i++)
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
        Assert.Equal(402, refused.Status);
        // The clock stands at 2026-11-22: the month's budget comes back on December 1st.
        Assert.Matches(@"This key's monthly budget of \$0\.002 (is spent|has \$[0-9.]+ left) until 2026-12-01T00:00:00Z", refused.Message);
        var spent = await App.InStoreAsync(db => db.UsageRecords.SumAsync(r => r.CostMicros));
        Assert.InRange(spent, 1, Money.FromUsd(0.002m));
        Assert.Equal(Money.FromUsd(5m) - spent, await App.BalanceAsync(organization.Id));
        await App.AssertLedgerConsistentAsync();
    }
}

public sealed class SqliteOrganizationBillingTests : OrganizationBillingTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresOrganizationBillingTests : OrganizationBillingTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task AnOrganizationKeySpendsTheOrganizationsBalanceAndTheRecordNamesTheMember() => base.AnOrganizationKeySpendsTheOrganizationsBalanceAndTheRecordNamesTheMember();

    [PostgresFact]
    public override Task TheAdminsGrantToAnOrganizationIsInItsLedgerAndTheAuditLog() => base.TheAdminsGrantToAnOrganizationIsInItsLedgerAndTheAuditLog();

    [PostgresFact]
    public override Task AnOrganizationKeysBudgetStopsItWhileTheOrganizationStillHasCredit() => base.AnOrganizationKeysBudgetStopsItWhileTheOrganizationStillHasCredit();
}

/// <summary>
/// The organization's stress test, as the users' (BillingTests, PostgresGatewayTests): paced replies, so
/// the requests of several members' keys are all in flight together.
/// </summary>
public abstract class OrganizationConcurrencyTests : StoreAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "100",
        ["Simulation:FirstTokenDelayMs"] = "300",
    };

    [Fact]
    public virtual async Task SeveralMembersKeysSpendingAtOnceNeverOverdrawTheOrganization()
    {
        // Each request holds prompt bound + 1,000 output tokens at $5/1M ≈ $0.005: $0.03 covers six at once,
        // and 45 requests over three members' keys are all in flight together.
        var organization = await App.CreateOrganizationAsync(credits: 0.03m);
        var members = new List<ApiAccount>();
        for (var i = 0; i < 3; i++)
        {
            members.Add(await App.AddMemberWithKeyAsync(organization, key: new NewApiKey($"busy {i}", RateLimitPerMinute: 600)));
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 45).Select(i => Task.Run(() =>
            App.ApiClient(members[i % 3].Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Go"}],"max_tokens":1000}"""))));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.PaymentRequired, $"{r.StatusCode}"));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.PaymentRequired);
        await App.AssertLedgerConsistentAsync();
        var records = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == organization.Id).ToListAsync());
        Assert.Equal(45, records.Count);
        Assert.Equal(members.Select(m => m.UserId).Order(), records.Select(r => r.MemberId!).Distinct().Order());
        var balance = await App.BalanceAsync(organization.Id);
        Assert.InRange(balance, 0, Money.FromUsd(0.03m));
        Assert.Equal(Money.FromUsd(0.03m) - records.Sum(r => r.CostMicros), balance);
        foreach (var member in members)
        {
            Assert.Equal(0, await App.BalanceAsync(member.UserId));
        }
    }
}

public sealed class SqliteOrganizationConcurrencyTests : OrganizationConcurrencyTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresOrganizationConcurrencyTests : OrganizationConcurrencyTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task SeveralMembersKeysSpendingAtOnceNeverOverdrawTheOrganization() => base.SeveralMembersKeysSpendingAtOnceNeverOverdrawTheOrganization();
}
