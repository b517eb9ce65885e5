using Portal.Tests.Gateway;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Billing;

namespace Portal.Tests.Billing;

public sealed class BillingTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    private CreditsLedger Ledger => _app.Services.GetRequiredService<CreditsLedger>();
    private LedgerWriter Writer => _app.Services.GetRequiredService<LedgerWriter>();

    [Fact]
    public async Task UnaffordableRequestGets402NamingTheAffordableMaxTokens()
    {
        // $0.01 at glm-5's $5/1M output affords about 2,000 output tokens, not the default 8,192.
        var account = await _app.CreateApiAccountAsync(credits: 0.01m);

        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hello"}]}""");

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("insufficient_quota", error["code"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        var affordable = int.Parse(System.Text.RegularExpressions.Regex.Match(message, @"affords max_tokens = (\d+)").Groups[1].Value);
        Assert.InRange(affordable, 1_900, 2_000);

        var retry = await _app.ApiClient(account.Key).PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":{{affordable}}}""");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ConcurrentRequestsNeverTakeTheBalanceBelowZero()
    {
        // Paced replies, so the 50 requests are all in flight together: each holds prompt bound +
        // 1,000 output tokens at $5/1M ≈ $0.005, and $0.03 covers six holds at once.
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "100", ["Simulation:FirstTokenDelayMs"] = "300" });
        var account = await app.CreateApiAccountAsync(credits: 0.03m, key: new NewApiKey("busy", RateLimitPerMinute: 600));
        var client = app.ApiClient(account.Key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Go"}],"max_tokens":1000}""")));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.PaymentRequired }));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.PaymentRequired);
        await app.AssertLedgerConsistentAsync();
        var records = await app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.Equal(50, records.Count);
        Assert.Equal(Money.FromUsd(0.03m) - records.Sum(r => r.CostMicros), await app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task SettlingTheSameRequestTwiceChargesOnce()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        Assert.Equal(HoldOutcome.Held, await Writer.TryHoldAsync(account.UserId, null, "req_twice", 500));

        var settlement = new Settlement(account.UserId, null, "req_twice", 500, 120);
        await Writer.SettleAsync(settlement, Record("req_twice", account.UserId));
        await Writer.SettleAsync(settlement, Record("req_twice", account.UserId));

        Assert.Equal(Money.FromUsd(1m) - 120, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task HoldsLeftByACrashAreReleasedOnce()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        // Taken by a process whose lease is gone (ADR 20): a writer of its own, its lease never written.
        var crashed = ActivatorUtilities.CreateInstance<Portal.Data.InstanceLeases>(_app.Services);
        await using (var writer = ActivatorUtilities.CreateInstance<LedgerWriter>(_app.Services, crashed))
        {
            await writer.TryHoldAsync(account.UserId, account.KeyId, "req_crashed", 777);
        }

        Assert.Equal(Money.FromUsd(1m) - 777, await _app.BalanceAsync(account.UserId));

        Assert.Equal(1, await Ledger.SettleOrphanedHoldsAsync(new OrphanedHolds()));

        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(0, (await Ledger.SummaryAsync(account.UserId)).OnHoldMicros);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == "req_crashed"));
        Assert.Equal(("interrupted", 0L), (record.ErrorCode, record.CostMicros));
        Assert.Equal(0, await Ledger.SettleOrphanedHoldsAsync(new OrphanedHolds()));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task KeySpendCapRefusesWhatItCannotCover()
    {
        var account = await _app.CreateApiAccountAsync(credits: 5m, key: new NewApiKey("capped", SpendCapMicros: Money.FromUsd(0.001m)));
        var client = _app.ApiClient(account.Key);

        var refused = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        Assert.Contains("spend cap", await refused.Content.ReadAsStringAsync());

        var small = await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":20}""");
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        var spent = await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.SpentMicros).SingleAsync());
        var charged = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).SumAsync(r => r.CostMicros));
        Assert.Equal(charged, spent);
        Assert.True(spent > 0);
    }

    [Fact]
    public async Task GrantsAndDeductionsAreLedgerEntriesAndCannotOverdraw()
    {
        var account = await _app.CreateApiAccountAsync(credits: 0m);

        Assert.Equal(0, (await _app.RunCliAsync("grant-credits", "--email", (await _app.InStoreAsync(db => db.Users.SingleAsync(u => u.Id == account.UserId))).Email!, "--amount", "3.25", "--reason", "welcome")).ExitCode);
        Assert.Equal(Money.FromUsd(3.25m), await _app.BalanceAsync(account.UserId));
        await Assert.ThrowsAsync<InsufficientCreditsException>(() => Ledger.GrantAsync(account.UserId, -Money.FromUsd(4m), "too much", null));
        Assert.Equal(Money.FromUsd(1.25m), await Ledger.GrantAsync(account.UserId, -Money.FromUsd(2m), "correction", "admin-id"));
        await _app.AssertLedgerConsistentAsync();
    }

    /// <summary>A usage record to settle with, for tests that call the writer directly.</summary>
    internal static UsageRecord Record(string requestId, string userId) => new()
    {
        RequestId = requestId,
        UserId = userId,
        ModelId = "glm-5",
        Status = 200,
        Provenance = Provenance.Reported,
    };
}
