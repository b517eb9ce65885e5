using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Store;

namespace Portal.Tests.Gateway;

/// <summary>The gateway's billing on a real PostgreSQL: conditional debits and settlement through Npgsql.</summary>
public sealed class PostgresGatewayTests : PostgresAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [PostgresFact]
    public async Task CompletionIsChargedAndRecordedOnPostgres()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);

        ChatCompletion completion = await App.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Hello from PostgreSQL")], new ChatCompletionOptions { MaxOutputTokenCount = 20 });

        var cost = Money.Cost(completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, Money.FromUsd(1.50m), Money.FromUsd(5.00m));
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
        Assert.Equal(1, await App.InStoreAsync(db => db.UsageRecords.CountAsync()));
        await App.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task ConcurrentRequestsNeverOverdrawOnPostgres()
    {
        var account = await App.CreateApiAccountAsync(credits: 0.05m, key: new NewApiKey("busy", RateLimitPerMinute: 600));
        var client = App.ApiClient(account.Key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Go"}],"max_tokens":1000}""")));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.PaymentRequired }));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.PaymentRequired);
        await App.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task OnlyOldHoldsThatNameNoInstanceAreReleasedWhenInstancesShareTheStore()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        var ledger = App.Services.GetRequiredService<CreditsLedger>();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await writer.TryHoldAsync(account.UserId, null, "req_old", 100);
        await writer.TryHoldAsync(account.UserId, null, "req_old_live", 300);
        // Made before instance leases (ADR 20): no instance to ask, only its age.
        await App.InStoreAsync(db => db.Ledger.Where(e => e.RequestId == "req_old").ExecuteUpdateAsync(s => s.SetProperty(e => e.InstanceId, (string?)null)));
        App.Time.Advance(TimeSpan.FromHours(2));
        await writer.TryHoldAsync(account.UserId, null, "req_live", 200);

        Assert.Equal(1, await ledger.SettleOrphanedHoldsAsync(new OrphanedHolds(UnownedBefore: App.Time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(1))));

        Assert.Equal(500, (await ledger.SummaryAsync(account.UserId)).OnHoldMicros);
        await App.AssertLedgerConsistentAsync();
    }
}
