using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.Catalog;
using Portal.Tests.Gateway;
using Portal.Tests.Store;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Billing;

/// <summary>
/// Cached prompt tokens at the model's cached-input price (ADR 25), through the official OpenAI SDK and
/// a real loopback provider reporting <c>prompt_tokens_details.cached_tokens</c>; on SQLite and PostgreSQL.
/// </summary>
public abstract class CachedInputPriceTests : StoreAppTest
{
    private static readonly long Input = Money.FromUsd(1.50m);   // glm-5's seeded prices
    private static readonly long Output = Money.FromUsd(5.00m);
    private static readonly long CachedInput = Money.FromUsd(0.30m);

    [Fact]
    public virtual async Task CachedTokensAreChargedAtTheCachedPriceAndTheRecordSaysSo()
    {
        await SetCachedPriceAsync("glm-5", CachedInput);
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(Completion(prompt: 10_000, cached: 8_000, completion: 500)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await App.CreateApiAccountAsync(credits: 1m);

        ChatCompletion completion = await App.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Same long prefix, new question")]);

        // 2,000 uncached × $1.50 + 8,000 cached × $0.30 + 500 × $5.00, per million: 3,000 + 2,400 + 2,500 micro-dollars.
        const long cost = 7_900;
        Assert.Equal(cost, Money.Cost(10_000, 8_000, 500, Input, CachedInput, Output));
        Assert.Equal((10_000, 8_000, 500), (completion.Usage.InputTokenCount, completion.Usage.InputTokenDetails.CachedTokenCount, completion.Usage.OutputTokenCount));
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((10_000, 8_000, 500, cost), (record.PromptTokens, record.CachedTokens, record.CompletionTokens, record.CostMicros));
        Assert.Equal((Input, CachedInput, Output), (record.InputPriceMicros, record.CachedInputPriceMicros, record.OutputPriceMicros));
        await App.AssertLedgerConsistentAsync();

        // The usage API explains the charge with the same numbers.
        var row = JsonNode.Parse(await App.ApiClient(account.Key).GetStringAsync("/api/v1/usage"))!["data"]![0]!;
        Assert.Equal((8_000, 1.50m, 0.30m, 5.00m, cost / 1_000_000m),
            (row["cached_tokens"]!.GetValue<int>(), row["prices"]!["input"]!.GetValue<decimal>(), row["prices"]!["cached_input"]!.GetValue<decimal>(),
             row["prices"]!["output"]!.GetValue<decimal>(), row["cost"]!.GetValue<decimal>()));
    }

    [Fact]
    public virtual async Task AStreamIsChargedAtTheCachedPriceToo()
    {
        await SetCachedPriceAsync("glm-5", CachedInput);
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("Cached "), Chunks.Content("answer", "stop"),
            Chunks.Usage(prompt: 4_000, completion: 100, cached: 3_000)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await App.CreateApiAccountAsync(credits: 1m);

        ChatTokenUsage? usage = null;
        await foreach (var update in App.OpenAiChat(account.Key).CompleteChatStreamingAsync([new UserChatMessage("Stream it")]))
        {
            usage ??= update.Usage;
        }

        // 1,000 × $1.50 + 3,000 × $0.30 + 100 × $5.00 per million = 1,500 + 900 + 500.
        const long cost = 2_900;
        Assert.NotNull(usage);
        Assert.Equal(3_000, usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
        var record = await App.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((3_000, CachedInput, cost), (record.CachedTokens, record.CachedInputPriceMicros, record.CostMicros));
    }

    [Fact]
    public virtual async Task AModelWithoutACachedPriceChargesCachedTokensAsInputAsBefore()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(Completion(prompt: 10_000, cached: 8_000, completion: 500)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await App.CreateApiAccountAsync(credits: 1m);

        await App.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Hello")]);

        var cost = Money.Cost(10_000, 500, Input, Output); // ADR 3's formula, unchanged
        Assert.Equal(17_500, cost);
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((8_000, Input, cost), (record.CachedTokens, record.CachedInputPriceMicros, record.CostMicros));
    }

    [Fact]
    public virtual async Task CachedTokensAnUpstreamReportsBeyondThePromptAreCountedAsThePromptOnly()
    {
        await SetCachedPriceAsync("glm-5", CachedInput);
        // A provider that says more of the prompt was cached than there was prompt: the whole prompt was, at most.
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(Completion(prompt: 1_000, cached: 50_000, completion: 100)));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await App.CreateApiAccountAsync(credits: 1m);

        await App.OpenAiChat(account.Key).CompleteChatAsync([new UserChatMessage("Hello")]);

        const long cost = 300 + 500; // 1,000 cached × $0.30 + 100 × $5.00 per million: never a negative uncached part
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((1_000, cost), (record.CachedTokens, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await App.BalanceAsync(account.UserId));
    }

    private async Task SetCachedPriceAsync(string model, long price)
    {
        await App.InStoreAsync(db => db.Models.Where(m => m.Id == model).ExecuteUpdateAsync(s => s.SetProperty(m => m.CachedInputPriceMicros, price)));
        App.Services.GetRequiredService<ModelCatalog>().Invalidate();
    }

    private static JsonObject Completion(int prompt, int cached, int completion) => new()
    {
        ["id"] = "chatcmpl-provider-cached",
        ["object"] = "chat.completion",
        ["created"] = 1_700_000_000,
        ["model"] = "provider-model-v1",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "From the cache, mostly.", ["refusal"] = null },
            ["logprobs"] = null,
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cached },
        },
    };
}

public sealed class SqliteCachedInputPriceTests : CachedInputPriceTests
{
    protected override bool OnPostgres => false;
}
