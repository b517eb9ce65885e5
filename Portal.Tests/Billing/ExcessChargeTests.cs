using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Tests.Observability;
using Portal.Tests.Store;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Billing;

/// <summary>
/// An upstream that reports more than the hold (ADR 13): the excess is charged from the balance in
/// the settlement, never below zero nor past the key's spend cap, and what could not be charged is
/// recorded on the charge entry. Balance = Σ entries after each.
/// </summary>
public abstract class ExcessChargeTests : StoreAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    private LedgerWriter Writer => App.Services.GetRequiredService<LedgerWriter>();

    private Task<LedgerEntry> ChargeAsync(string requestId) =>
        App.InStoreAsync(db => db.Ledger.SingleAsync(e => e.RequestId == requestId && e.Kind == LedgerKind.Charge));

    public virtual async Task ExcessOverTheHoldIsChargedFromTheBalance()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        await Writer.TryHoldAsync(account.UserId, null, "req_excess", 100);

        await Writer.SettleAsync(new Settlement(account.UserId, null, "req_excess", 100, 5_000), BillingTests.Record("req_excess", account.UserId));

        Assert.Equal(Money.FromUsd(1m) - 5_000, await App.BalanceAsync(account.UserId));
        Assert.Equal(-5_000, (await ChargeAsync("req_excess")).AmountMicros);
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_excess"));
        Assert.Equal(5_000, record.CostMicros);
        await App.AssertLedgerConsistentAsync();
    }

    public virtual async Task ExcessStopsAtZeroAndTheShortfallIsRecorded()
    {
        // 1,000 µ$ in all: 100 held, 900 left; the upstream reports 5,000.
        var account = await App.CreateApiAccountAsync(credits: 0.001m);
        await Writer.TryHoldAsync(account.UserId, null, "req_short", 100);

        await Writer.SettleAsync(new Settlement(account.UserId, null, "req_short", 100, 5_000), BillingTests.Record("req_short", account.UserId));

        Assert.Equal(0, await App.BalanceAsync(account.UserId));
        var charge = await ChargeAsync("req_short");
        Assert.Equal(-1_000, charge.AmountMicros);
        Assert.Contains(Money.Format(4_000), charge.Reason);
        Assert.Contains("not charged", charge.Reason);
        Assert.Equal(1_000, (await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_short"))).CostMicros);
        await App.AssertLedgerConsistentAsync();

        // Settling again changes nothing.
        await Writer.SettleAsync(new Settlement(account.UserId, null, "req_short", 100, 5_000), BillingTests.Record("req_short", account.UserId));
        Assert.Equal(0, await App.BalanceAsync(account.UserId));
        await App.AssertLedgerConsistentAsync();
    }

    public virtual async Task ExcessStopsAtTheKeysSpendCap()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m, key: new NewApiKey("capped", SpendCapMicros: 1_000));
        await Writer.TryHoldAsync(account.UserId, account.KeyId, "req_cap", 100);

        await Writer.SettleAsync(new Settlement(account.UserId, account.KeyId, "req_cap", 100, 5_000), BillingTests.Record("req_cap", account.UserId));

        Assert.Equal(Money.FromUsd(1m) - 1_000, await App.BalanceAsync(account.UserId));
        Assert.Equal(1_000, await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync()));
        var charge = await ChargeAsync("req_cap");
        Assert.Equal(-1_000, charge.AmountMicros);
        Assert.Contains(Money.Format(4_000), charge.Reason);
        await App.AssertLedgerConsistentAsync();
    }

    public virtual async Task ManyExcessSettlementsOfOneUserInOneBatchNeverOverdraw()
    {
        var account = await App.CreateApiAccountAsync(credits: 0.01m);
        var ids = Enumerable.Range(0, 20).Select(i => $"req_many_{i}").ToList();
        foreach (var id in ids)
        {
            Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, null, id, 100));
        }

        // Each reports 1,000 µ$: 20,000 owed against 10,000 in all.
        await Task.WhenAll(ids.Select(id => Writer.SettleAsync(new Settlement(account.UserId, null, id, 100, 1_000), BillingTests.Record(id, account.UserId))));

        Assert.Equal(0, await App.BalanceAsync(account.UserId));
        var charged = await App.InStoreAsync(db => db.Ledger.Where(e => e.UserId == account.UserId && e.Kind == LedgerKind.Charge).SumAsync(e => e.AmountMicros));
        Assert.Equal(-10_000, charged);
        Assert.Equal(10_000, await App.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).SumAsync(r => r.CostMicros)));
        await App.AssertLedgerConsistentAsync();
    }

    public virtual async Task UpstreamReportingMoreThanTheHoldIsChargedWhatTheBalanceAllows()
    {
        // The upstream says the short prompt was a million tokens: $1.50 at glm-5's price, on a $1 account.
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("Hi", finishReason: "stop"), Chunks.Usage(prompt: 1_000_000, completion: 2)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "glm-5-upstream");
        var account = await App.CreateApiAccountAsync(credits: 1m);

        var response = await App.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":10}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, await App.BalanceAsync(account.UserId));
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((1_000_000, Money.FromUsd(1m)), (record.PromptTokens, record.CostMicros));
        var charge = await App.InStoreAsync(db => db.Ledger.SingleAsync(e => e.UserId == account.UserId && e.Kind == LedgerKind.Charge));
        Assert.Equal(-Money.FromUsd(1m), charge.AmountMicros);
        Assert.Contains("not charged", charge.Reason);
        await App.AssertLedgerConsistentAsync();
        App.RemoteIp = IPAddress.Loopback; // /metrics answers local scrapers without a token
        var metrics = MetricsTests.Exposition.Parse(await App.CreateClient().GetStringAsync("/metrics"));
        var cost = Money.Cost(1_000_000, 2, Money.FromUsd(1.50m), Money.FromUsd(5m));
        Assert.Equal(cost - Money.FromUsd(1m), metrics.Value("portal_credits_shortfall_microdollars_total", ("model", "glm-5")));
    }
}

public sealed class SqliteExcessChargeTests : ExcessChargeTests
{
    protected override bool OnPostgres => false;

    [Fact]
    public override Task ExcessOverTheHoldIsChargedFromTheBalance() => base.ExcessOverTheHoldIsChargedFromTheBalance();

    [Fact]
    public override Task ExcessStopsAtZeroAndTheShortfallIsRecorded() => base.ExcessStopsAtZeroAndTheShortfallIsRecorded();

    [Fact]
    public override Task ExcessStopsAtTheKeysSpendCap() => base.ExcessStopsAtTheKeysSpendCap();

    [Fact]
    public override Task ManyExcessSettlementsOfOneUserInOneBatchNeverOverdraw() => base.ManyExcessSettlementsOfOneUserInOneBatchNeverOverdraw();

    [Fact]
    public override Task UpstreamReportingMoreThanTheHoldIsChargedWhatTheBalanceAllows() => base.UpstreamReportingMoreThanTheHoldIsChargedWhatTheBalanceAllows();
}

public sealed class PostgresExcessChargeTests : ExcessChargeTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task ExcessOverTheHoldIsChargedFromTheBalance() => base.ExcessOverTheHoldIsChargedFromTheBalance();

    [PostgresFact]
    public override Task ExcessStopsAtZeroAndTheShortfallIsRecorded() => base.ExcessStopsAtZeroAndTheShortfallIsRecorded();

    [PostgresFact]
    public override Task ExcessStopsAtTheKeysSpendCap() => base.ExcessStopsAtTheKeysSpendCap();

    [PostgresFact]
    public override Task ManyExcessSettlementsOfOneUserInOneBatchNeverOverdraw() => base.ManyExcessSettlementsOfOneUserInOneBatchNeverOverdraw();

    [PostgresFact]
    public override Task UpstreamReportingMoreThanTheHoldIsChargedWhatTheBalanceAllows() => base.UpstreamReportingMoreThanTheHoldIsChargedWhatTheBalanceAllows();
}
