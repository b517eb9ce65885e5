using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Models.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Billing;
using Portal.Catalog;
using Portal.Tests.Gateway;
using static Portal.Tests.Upstreams.NativeMessagesFixtures;

namespace Portal.Tests.Upstreams;

/// <summary>
/// The Messages API in front of a real (loopback) provider that speaks Anthropic's Messages API itself
/// (an upstream with a Messages endpoint, ADR 35), through Anthropic's SDK: the request goes as sent, the
/// reply comes back as the provider wrote it, billed from the provider's usage.
/// </summary>
public sealed class NativeMessagesTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private static JsonObject WholeMessage() => new()
    {
        ["id"] = "msg_provider",
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = "provider-model",
        ["content"] = new JsonArray(
            new JsonObject { ["type"] = "thinking", ["thinking"] = "They want a word.", ["signature"] = "sig-abc" },
            new JsonObject { ["type"] = "text", ["text"] = "Paris", ["citations"] = null }),
        ["stop_reason"] = "stop_sequence",
        ["stop_sequence"] = "END",
        ["usage"] = new JsonObject
        {
            ["input_tokens"] = 100, ["cache_read_input_tokens"] = 400, ["cache_creation_input_tokens"] = 50, ["output_tokens"] = 20,
            ["service_tier"] = "standard",
        },
    };

    private async Task<ModelInfo> ModelAsync() => (await _app.Services.GetRequiredService<ModelCatalog>().CurrentAsync(CancellationToken.None)).Find("glm-5")!;

    [Fact]
    public async Task TheProviderGetsTheClientsBodyAndTheClientGetsTheProvidersReplyChargedExactlyItsUsage()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(WholeMessage()));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        // What translation would drop reaches the provider: cache_control, an earlier thinking block's signature, unknown fields.
        var body = """
            {"model":"glm-5","max_tokens":3000,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "stop_sequences":["END"],"metadata":{"user_id":"u-1"},"thinking":{"type":"enabled","budget_tokens":1024},"service_tier":"auto",
             "messages":[{"role":"user","content":"Capital of France?"},
               {"role":"assistant","content":[{"type":"thinking","thinking":"Hm.","signature":"sig-earlier"},{"type":"text","text":"Which one?"}]},
               {"role":"user","content":[{"type":"text","text":"France.","cache_control":{"type":"ephemeral"}}]}]}
            """;
        var client = _app.ApiClient(account.Key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        client.DefaultRequestHeaders.Add("anthropic-beta", "interleaved-thinking-2025-05-14");
        var response = await client.PostMessagesAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        var sent = Assert.Single(provider.Requests);
        Assert.Equal("/v1/messages", sent.Path);
        Assert.Equal(("sk-upstream", "2023-06-01", "interleaved-thinking-2025-05-14", null),
            (sent.Header("x-api-key"), sent.Header("anthropic-version"), sent.Header("anthropic-beta"), sent.Header("Authorization")));
        var expected = JsonNode.Parse(body)!.AsObject();
        expected["model"] = "upstream-glm-5";
        expected["stream"] = false;
        Assert.True(JsonNode.DeepEquals(expected, sent.Body), $"upstream got {sent.Body?.ToJsonString()}");

        // The provider's reply, but Portal's id, the model the client named and the usage Portal charged.
        var reply = WholeMessage();
        reply["id"] = "msg_" + response.Headers.GetValues("x-request-id").Single();
        reply["model"] = "glm-5";
        Assert.True(JsonNode.DeepEquals(reply, JsonNode.Parse(text)), text);

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        var model = await ModelAsync();
        var cost = Money.Cost(550, 400, 20, model.InputPriceMicros, model.EffectiveCachedInputPriceMicros, model.OutputPriceMicros);
        Assert.Equal((FrontDoor.Messages, Provenance.Reported, 200, 550, 400, 20, cost, "u-1"),
            (record.Api, record.Provenance, record.Status, record.PromptTokens, record.CachedTokens, record.CompletionTokens, record.CostMicros, record.EndUser));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task AStreamIsRelayedEventByEventWithTheThinkingSignatureAndPortalsSettledUsage()
    {
        await using var provider = await FakeUpstream.StartAsync(Stream(
            MessageStart(input: 60, cacheRead: 40),
            BlockStart(0, new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" }),
            BlockDelta(0, new JsonObject { ["type"] = "thinking_delta", ["thinking"] = "Short answer." }),
            BlockDelta(0, new JsonObject { ["type"] = "signature_delta", ["signature"] = "sig-xyz" }),
            BlockStop(0),
            Ping(),
            BlockStart(1, new JsonObject { ["type"] = "text", ["text"] = "" }),
            BlockDelta(1, new JsonObject { ["type"] = "text_delta", ["text"] = "Hello" }),
            BlockDelta(1, new JsonObject { ["type"] = "text_delta", ["text"] = " world" }),
            BlockStop(1),
            MessageDelta("stop_sequence", output: 9, stopSequence: "END"),
            MessageStop()));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in _app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 2000,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 1024 },
            StopSequences = ["END"],
            Messages = [new UserMessageParam { Content = "Hi" }],
        }))
        {
            events.Add(e);
        }

        Assert.True(Assert.Single(provider.Requests).Body!["stream"]!.GetValue<bool>());
        var kinds = events.Select(e => e.Value switch
        {
            RawMessageStartEvent => "message_start",
            RawContentBlockStartEvent => "start",
            RawContentBlockDeltaEvent d => d.Delta.Value switch { ThinkingDelta => "thinking", SignatureDelta => "signature", TextDelta => "text", _ => "other" },
            RawContentBlockStopEvent => "stop",
            RawMessageDeltaEvent => "message_delta",
            RawMessageStopEvent => "message_stop",
            _ => "?",
        });
        Assert.Equal(["message_start", "start", "thinking", "signature", "stop", "start", "text", "text", "stop", "message_delta", "message_stop"], kinds);
        Assert.True(events[0].TryPickStart(out var start));
        Assert.Equal("glm-5", start!.Message.Model.Raw());
        Assert.True(events[^2].TryPickDelta(out var delta));
        Assert.Equal(("stop_sequence", "END", 9L, 60L, 40L, 0L),
            (delta!.Delta.StopReason!.Raw(), delta.Delta.StopSequence, delta.Usage.OutputTokens, delta.Usage.InputTokens!.Value, delta.Usage.CacheReadInputTokens!.Value, delta.Usage.CacheCreationInputTokens!.Value));
        Assert.True(events[3].TryPickContentBlockDelta(out var signature) && signature!.Delta.TryPickSignature(out var sig) && sig!.Signature == "sig-xyz");

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, Provenance.Reported, true, 100, 40, 9), (record.Api, record.Provenance, record.Stream, record.PromptTokens, record.CachedTokens, record.CompletionTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task AToolUseLoopGoesToTheProviderAsTheClientWroteIt()
    {
        var toolUse = new JsonObject
        {
            ["id"] = "msg_1", ["type"] = "message", ["role"] = "assistant", ["model"] = "provider-model",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_01", ["name"] = "get_weather", ["input"] = new JsonObject { ["city"] = "Paris" } }),
            ["stop_reason"] = "tool_use", ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = 30, ["output_tokens"] = 12 },
        };
        var answer = new JsonObject
        {
            ["id"] = "msg_2", ["type"] = "message", ["role"] = "assistant", ["model"] = "provider-model",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "18 °C and sunny." }),
            ["stop_reason"] = "end_turn", ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = 60, ["output_tokens"] = 8 },
        };
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(toolUse), Reply.Json(answer));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.Anthropic(account.Key);
        var weather = new Tool
        {
            Name = "get_weather",
            InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) } },
        };
        var question = new MessageParam(new UserMessageParam { Content = "Weather in Paris?" });

        var first = await client.Messages.Create(new MessageCreateParams { Model = "glm-5", MaxTokens = 200, Tools = [weather], Messages = [question] });
        var call = first.Content.Select(b => b.Value).OfType<ToolUseBlock>().Single();
        Assert.Equal(("toolu_01", "get_weather", "Paris", "tool_use"), (call.ID, call.Name, call.Input["city"].GetString(), first.StopReason!.Raw()));

        var second = await client.Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 200,
            Tools = [weather],
            Messages =
            [
                question,
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = call.ID, Content = "18 C" } } },
            ],
        });

        Assert.Equal("18 °C and sunny.", Assert.IsType<TextBlock>(Assert.Single(second.Content).Value).Text);
        var messages = provider.Requests[1].Body!["messages"]!.AsArray();
        Assert.Equal("toolu_01", messages[1]!["content"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(("tool_result", "toolu_01"), (messages[2]!["content"]![0]!["type"]!.GetValue<string>(), messages[2]!["content"]![0]!["tool_use_id"]!.GetValue<string>()));
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal([(30, 12), (60, 8)], records.Select(r => (r.PromptTokens, r.CompletionTokens)));
    }

    [Fact]
    public async Task AClientThatLeavesMidStreamPaysThePromptTheProviderReportedAndWhatItReceived()
    {
        await using var provider = await FakeUpstream.StartAsync(StreamThenWait(
            MessageStart(input: 70),
            BlockStart(0, new JsonObject { ["type"] = "text", ["text"] = "" }),
            BlockDelta(0, new JsonObject { ["type"] = "text_delta", ["text"] = "Once upon a time" })));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        await foreach (var e in _app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 2000,
            Messages = [new UserMessageParam { Content = "Tell me a long story." }],
        }))
        {
            if (e.TryPickContentBlockDelta(out _))
            {
                break; // the client leaves with the first text
            }
        }

        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Messages, Provenance.Partial, 499, 70), (record.Api, record.Provenance, record.Status, record.PromptTokens));
        Assert.Equal(Portal.Gateway.TokenEstimator.Count(" Once upon a time "), record.CompletionTokens);
        Assert.True(record.CostMicros > 0);
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task AProvidersErrorEventMidStreamEndsTheStreamWithAnErrorEventAndChargesWhatGotThrough()
    {
        await using var provider = await FakeUpstream.StartAsync(Stream(
            MessageStart(input: 25),
            BlockStart(0, new JsonObject { ["type"] = "text", ["text"] = "" }),
            BlockDelta(0, new JsonObject { ["type"] = "text_delta", ["text"] = "Half a" }),
            new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = "overloaded_error", ["message"] = "Overloaded" } }));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostMessagesAsync("""{"model":"glm-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var stream = await response.Content.ReadAsStringAsync();

        Assert.StartsWith("event: message_start\n", stream);
        Assert.Contains("\"text\":\"Half a\"", stream);
        var last = stream.TrimEnd().Split("\n\n")[^1];
        Assert.StartsWith("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"", last);
        Assert.Contains("overloaded_error", last);
        Assert.DoesNotContain("message_stop", stream);
        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((Provenance.Partial, 25), (record.Provenance, record.PromptTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task AProviderEventWhoseTypeWouldAddLinesToTheStreamIsMalformedAndNotRelayed()
    {
        await using var provider = await FakeUpstream.StartAsync(Stream(
            MessageStart(input: 25),
            new JsonObject { ["type"] = "ping\ndata: {\"injected\":true}" }));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostMessagesAsync("""{"model":"glm-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var stream = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("injected", stream);
        Assert.Contains("The upstream sent a malformed event.", stream);
        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((502, 0L), (record.Status, record.CostMicros)); // nothing but the head reached the client
    }

    [Fact]
    public async Task AProviderThatAnswersAStreamWithOneMessageBecomesEventsTheSdkAssembles()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(WholeMessage()));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var message = await Anthropic.SseAggregatorExtensions.Aggregate(_app.Anthropic(account.Key).Messages.CreateStreaming(
            new MessageCreateParams { Model = "glm-5", MaxTokens = 2000, Messages = [new UserMessageParam { Content = "Capital of France?" }] }));

        var thinking = Assert.IsType<ThinkingBlock>(message.Content[0].Value);
        Assert.Equal(("sig-abc", "Paris", "stop_sequence", "END", 20L), (thinking.Signature, Assert.IsType<TextBlock>(message.Content[1].Value).Text, message.StopReason!.Raw(), message.StopSequence, message.Usage.OutputTokens));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((550, 400, 20), (record.PromptTokens, record.CachedTokens, record.CompletionTokens));
    }

    [Theory]
    [InlineData(529, "overloaded_error", 502, 2)] // tried again, then the next upstream (unreachable): Portal's 502
    [InlineData(400, "invalid_request_error", 400, 1)] // the provider's refusal of the request, in its words
    [InlineData(401, "authentication_error", 502, 1)] // Portal's key: the operator's to fix, not the client's
    public async Task AProvidersErrorIsMappedAndCostsNothing(int status, string type, int expected, int calls)
    {
        await using var provider = await FakeUpstream.StartAsync(Error(status, type, "provider says no"));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        await _app.AddUpstreamAsync("glm-5", UpstreamFixtures.ClosedPortBaseUrl(), "nowhere", priority: 1, messagesBaseUrl: UpstreamFixtures.ClosedPortBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostMessagesAsync("""{"model":"glm-5","max_tokens":20,"messages":[{"role":"user","content":"Hi"}]}""");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal(expected == 400 ? "invalid_request_error" : "api_error", body["error"]!["type"]!.GetValue<string>());
        Assert.Equal(expected == 400, body["error"]!["message"]!.GetValue<string>().Contains("provider says no", StringComparison.Ordinal));
        Assert.Equal(calls, provider.Requests.Count(r => r.Path == "/v1/messages"));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Messages, expected, 0L), (record.Api, record.Status, record.CostMicros));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task WhenTheNativeUpstreamFailsTheNextOneWithoutAMessagesEndpointServesTheTranslation()
    {
        await using var native = await FakeUpstream.StartAsync(Error(529, "overloaded_error", "Overloaded"));
        await using var translated = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("Bonjour", "stop"), Chunks.Usage(prompt: 12, completion: 3)));
        await _app.AddUpstreamAsync("glm-5", native.BaseUrl, "native-model", messagesBaseUrl: native.MessagesBaseUrl());
        await _app.AddUpstreamAsync("glm-5", translated.BaseUrl, "chat-model", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var message = await Anthropic.SseAggregatorExtensions.Aggregate(_app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 100,
            Messages = [new UserMessageParam { Content = "Say hello in French." }],
        }));

        Assert.Equal("Bonjour", Assert.IsType<TextBlock>(Assert.Single(message.Content).Value).Text);
        Assert.All(native.Requests, r => Assert.Equal("/v1/messages", r.Path));
        var sent = Assert.Single(translated.Requests);
        Assert.Equal(("/v1/chat/completions", "chat-model"), (sent.Path, sent.Body!["model"]!.GetValue<string>()));
        Assert.NotNull(sent.Body["messages"]); // the chat translation, not the Messages body
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, 12, 3), (record.Api, record.PromptTokens, record.CompletionTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task ChatCompletionsToAnUpstreamWithAMessagesEndpointStillGoToItsOpenAiBase()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("Hi", "stop"), Chunks.Usage(prompt: 5, completion: 1)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", messagesBaseUrl: provider.MessagesBaseUrl());
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostAsync("/api/v1/chat/completions",
            new StringContent("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}]}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/chat/completions", Assert.Single(provider.Requests).Path);
    }

    [Theory]
    [InlineData("ftp://api.example.com/anthropic", "Enter the provider's http(s) Anthropic Messages base URL")]
    [InlineData("api.deepseek.com/anthropic", "Enter the provider's http(s) Anthropic Messages base URL")]
    [InlineData("https://user:pw@api.example.com/anthropic", "must not contain a user name, password, query or fragment")]
    [InlineData("https://api.example.com/anthropic?key=1", "must not contain a user name, password, query or fragment")]
    public async Task AnAdminCannotSaveABadMessagesEndpoint(string url, string error)
    {
        var admin = _app.Services.GetRequiredService<UpstreamAdmin>();
        var result = await admin.SaveAsync(AdminCaller.Cli, new UpstreamForm { ModelId = "glm-5", BaseUrl = "https://api.example.com/v1", UpstreamModel = "m", MessagesBaseUrl = url });

        Assert.False(result.Succeeded);
        Assert.Contains(error, result.ErrorFor(nameof(UpstreamForm.MessagesBaseUrl))!);
        Assert.Equal(0, await _app.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
    }

    [Fact]
    public async Task AnAdminSetsAndClearsTheMessagesEndpoint()
    {
        var admin = _app.Services.GetRequiredService<UpstreamAdmin>();
        var tooLong = await admin.SaveAsync(AdminCaller.Cli, new UpstreamForm { ModelId = "glm-5", BaseUrl = "https://api.example.com/v1", UpstreamModel = "m", MessagesBaseUrl = "https://api.example.com/" + new string('a', 2048) });
        Assert.Contains("longer than 2048", tooLong.ErrorFor(nameof(UpstreamForm.MessagesBaseUrl))!);

        var saved = await admin.SaveAsync(AdminCaller.Cli, new UpstreamForm { ModelId = "glm-5", BaseUrl = "https://api.example.com/v1", UpstreamModel = "m", MessagesBaseUrl = " https://api.deepseek.com/anthropic/ " });
        Assert.True(saved.Succeeded, saved.Problem);
        var row = Assert.Single(await admin.ListAsync(AdminCaller.Cli, "glm-5"));
        Assert.Equal("https://api.deepseek.com/anthropic", row.MessagesBaseUrl);
        var form = (await admin.FormForAsync(AdminCaller.Cli, row.Id))!;
        Assert.Equal("https://api.deepseek.com/anthropic", form.MessagesBaseUrl);

        form.MessagesBaseUrl = "";
        Assert.True((await admin.SaveAsync(AdminCaller.Cli, form)).Succeeded);
        Assert.Null(Assert.Single(await admin.ListAsync(AdminCaller.Cli, "glm-5")).MessagesBaseUrl);
    }
}
