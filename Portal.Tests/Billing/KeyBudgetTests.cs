using System.ClientModel;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;
using Portal.ApiKeys;
using Portal.Tests.Gateway;
using Portal.Tests.Store;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Billing;

/// <summary>
/// A key's budget that resets (ADR 29), through the official OpenAI SDK: the hold's conditional debit
/// stops the key at its budget with a 402 naming it and when it resets; the next period (the clock moved
/// past the boundary) allows again; concurrent requests never spend past it. On SQLite and PostgreSQL.
/// </summary>
public abstract class KeyBudgetTests : StoreAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    private static readonly ChatCompletionOptions Small = new() { MaxOutputTokenCount = 100 };

    [Fact]
    public virtual async Task TheKeyStopsAtItsDailyBudgetWithA402NamingItAndTheNextDayAllowsAgain()
    {
        // Each request holds about $0.0005 (100 output tokens at $5/1M, plus its prompt): four or five fit in $0.002.
        var budget = Money.FromUsd(0.002m);
        var account = await App.CreateApiAccountAsync(credits: 5m, key: new NewApiKey("daily", Budget: new KeyBudget(BudgetPeriod.Day, budget)));
        var chat = App.OpenAiChat(account.Key);

        ClientResultException? refused = null;
        var served = 0;
        for (var i = 0; i < 50 && refused is null; i++)
        {
            try
            {
                await chat.CompleteChatAsync([new UserChatMessage("Hello")], Small);
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
        // The clock stands at 2026-11-22 09:30 UTC: the day's budget comes back at midnight.
        Assert.Matches(@"This key's daily budget of \$0\.002 (is spent|has \$[0-9.]+ left) until 2026-11-23T00:00:00Z", refused.Message);
        Assert.Contains("insufficient_quota", refused.GetRawResponse()!.Content.ToString());
        var key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Id == account.KeyId));
        var charged = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.ApiKeyId == account.KeyId).SumAsync(r => r.CostMicros));
        Assert.Equal(charged, key.BudgetSpentMicros);
        Assert.InRange(key.BudgetSpentMicros, 1, budget);
        // GET /api/v1/key tells the caller the same: what the day has spent and when it comes back.
        var reply = await (await App.ApiClient(account.Key).GetAsync("/api/v1/key")).JsonBodyAsync();
        Assert.Equal((0.002m, "day", Money.ToUsd(charged), new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds()),
            (reply["data"]!["budget"]!["amount"]!.GetValue<decimal>(), reply["data"]!["budget"]!["period"]!.GetValue<string>(),
             reply["data"]!["budget"]!["spent"]!.GetValue<decimal>(), reply["data"]!["budget"]!["resets_at"]!.GetValue<long>()));

        App.Time.Advance(TimeSpan.FromHours(14.5) + TimeSpan.FromSeconds(1)); // 2026-11-23 00:00:01
        await chat.CompleteChatAsync([new UserChatMessage("Hello again")], Small);

        key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Id == account.KeyId));
        var today = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.ApiKeyId == account.KeyId).OrderByDescending(r => r.Id).Select(r => r.CostMicros).FirstAsync());
        Assert.Equal(today, key.BudgetSpentMicros);
        Assert.Equal(new KeyBudget(BudgetPeriod.Day, budget).PeriodStartAt(App.Time.GetUtcNow().UtcDateTime), key.BudgetPeriodStart);
        Assert.Equal(charged + today, key.SpentMicros);
        var nextDay = await (await App.ApiClient(account.Key).GetAsync("/api/v1/key")).JsonBodyAsync();
        Assert.Equal(Money.ToUsd(today), nextDay["data"]!["budget"]!["spent"]!.GetValue<decimal>());
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task ConcurrentRequestsNeverSpendPastTheBudget()
    {
        var budget = Money.FromUsd(0.005m);
        var account = await App.CreateApiAccountAsync(credits: 5m, key: new NewApiKey("weekly", Budget: new KeyBudget(BudgetPeriod.Week, budget)));
        var client = App.ApiClient(account.Key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() =>
            client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":100}"""))));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.PaymentRequired);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.PaymentRequired, $"{r.StatusCode}"));
        var refusal = await responses.First(r => r.StatusCode == HttpStatusCode.PaymentRequired).Content.ReadAsStringAsync();
        // 2026-11-22 is a Sunday: the week (from Monday) ends at midnight.
        Assert.Contains("weekly budget of $0.005", refusal);
        Assert.Contains("until 2026-11-23T00:00:00Z", refusal);
        var key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Id == account.KeyId));
        var charged = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.ApiKeyId == account.KeyId).SumAsync(r => r.CostMicros));
        Assert.InRange(charged, 1, budget);
        Assert.Equal(charged, key.BudgetSpentMicros);
        await App.AssertLedgerConsistentAsync();
    }

    [Fact]
    public virtual async Task AKeyWithoutABudgetIsNotLimitedByOne()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);

        for (var i = 0; i < 5; i++)
        {
            await App.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Hello")], Small);
        }

        var key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Id == account.KeyId));
        Assert.Equal((BudgetPeriod.None, (long?)null), (key.BudgetPeriod, key.BudgetMicros));
        Assert.True(key.SpentMicros > 0);
    }
}

public sealed class SqliteKeyBudgetTests : KeyBudgetTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresKeyBudgetTests : KeyBudgetTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task TheKeyStopsAtItsDailyBudgetWithA402NamingItAndTheNextDayAllowsAgain() => base.TheKeyStopsAtItsDailyBudgetWithA402NamingItAndTheNextDayAllowsAgain();

    [PostgresFact]
    public override Task ConcurrentRequestsNeverSpendPastTheBudget() => base.ConcurrentRequestsNeverSpendPastTheBudget();

    [PostgresFact]
    public override Task AKeyWithoutABudgetIsNotLimitedByOne() => base.AKeyWithoutABudgetIsNotLimitedByOne();
}
