using Anthropic.Models.Messages;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Tests.Store;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Gateway;

/// <summary>The Messages API's billing and records on a real PostgreSQL.</summary>
public sealed class PostgresMessagesTests : PostgresAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [PostgresFact]
    public async Task MessagesWholeAndStreamedAreChargedTheirSettledUsageAndRecordedAsMessagesOnPostgres()
    {
        var account = await App.CreateApiAccountAsync(credits: 1m);
        var client = App.Anthropic(account.Key);
        var hello = new MessageCreateParams { Model = "glm-5", MaxTokens = 30, Messages = [new UserMessageParam { Content = "Hello from PostgreSQL" }] };

        var whole = await client.Messages.Create(hello);
        var streamed = new List<RawMessageStreamEvent>();
        await foreach (var e in client.Messages.CreateStreaming(hello))
        {
            streamed.Add(e);
        }

        Assert.True(streamed[^2].TryPickDelta(out var delta));
        var records = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal([(FrontDoor.Messages, false), (FrontDoor.Messages, true)], records.Select(r => (r.Api, r.Stream)));
        Assert.Equal(((int)whole.Usage.InputTokens, (int)whole.Usage.OutputTokens), (records[0].PromptTokens, records[0].CompletionTokens));
        Assert.Equal((int)delta!.Usage.OutputTokens, records[1].CompletionTokens);
        Assert.Equal(Money.FromUsd(1m) - records.Sum(r => r.CostMicros), await App.BalanceAsync(account.UserId));
        await App.AssertLedgerConsistentAsync();
    }

    [PostgresFact]
    public async Task AProviderThatSpeaksMessagesIsRelayedAndChargedItsReportedUsageOnPostgres()
    {
        await using var provider = await FakeUpstream.StartAsync(NativeMessagesFixtures.Stream(
            NativeMessagesFixtures.MessageStart(input: 80, cacheRead: 20, cacheCreation: 5),
            NativeMessagesFixtures.BlockStart(0, new System.Text.Json.Nodes.JsonObject { ["type"] = "text", ["text"] = "" }),
            NativeMessagesFixtures.BlockDelta(0, new System.Text.Json.Nodes.JsonObject { ["type"] = "text_delta", ["text"] = "Hello from PostgreSQL" }),
            NativeMessagesFixtures.BlockStop(0),
            NativeMessagesFixtures.MessageDelta("end_turn", output: 6),
            NativeMessagesFixtures.MessageStop()));
        await App.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await App.CreateApiAccountAsync(credits: 1m);

        var message = await Anthropic.SseAggregatorExtensions.Aggregate(App.Anthropic(account.Key).Messages.CreateStreaming(
            new MessageCreateParams { Model = "glm-5", MaxTokens = 30, Messages = [new UserMessageParam { Content = "Hi" }] }));

        Assert.Equal((80L, 20L, 5L, 6L), (message.Usage.InputTokens, message.Usage.CacheReadInputTokens!.Value, message.Usage.CacheCreationInputTokens!.Value, message.Usage.OutputTokens));
        Assert.Equal("/v1/messages", Assert.Single(provider.Requests).Path);
        var record = await App.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, Provenance.Reported, 105, 20, 6), (record.Api, record.Provenance, record.PromptTokens, record.CachedTokens, record.CompletionTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await App.BalanceAsync(account.UserId));
        await App.AssertLedgerConsistentAsync();
    }
}
