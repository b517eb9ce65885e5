using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Responses;
using Portal.Billing;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

#pragma warning disable OPENAI001 // the SDK's Responses client is marked experimental

/// <summary>The Responses API in front of a real (loopback) OpenAI-compatible provider: what the provider is asked, and what the client gets.</summary>
public sealed class ResponsesRelayTests : IDisposable
{
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task TheProviderIsAskedAChatCompletionAndTheClientGetsAResponseChargedAtTheReportedUsage()
    {
        var reply = new JsonObject
        {
            ["id"] = "chatcmpl-provider",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = "provider-model-v1",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["reasoning_content"] = "The user wants the weather.",
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_abc",
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
                    }),
                },
                ["finish_reason"] = "tool_calls",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = 1200, ["completion_tokens"] = 345, ["total_tokens"] = 1545,
                ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 100 },
                ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 40 },
            },
        };
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(reply));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream-secret");
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("glm-5",
        [
            ResponseItem.CreateDeveloperMessageItem("Use tools."),
            ResponseItem.CreateUserMessageItem([ResponseContentPart.CreateInputTextPart("Weather here?"), ResponseContentPart.CreateInputImagePart(new Uri("https://example.test/sky.png"), ResponseImageDetailLevel.Low)]),
            ResponseItem.CreateFunctionCallItem("call_0", "get_time", BinaryData.FromString("{}")),
            ResponseItem.CreateFunctionCallOutputItem("call_0", "12:00"),
        ])
        {
            Instructions = "Be brief.",
            Tools = { ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""), strictModeEnabled: true, functionDescription: "Weather") },
            ToolChoice = ResponseToolChoice.CreateFunctionChoice("get_weather"),
            MaxOutputTokenCount = 50_000,
            Temperature = 0.5f,
            SafetyIdentifier = "end-user-7",
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonObjectFormat() },
        });

        // The provider was asked one chat completion carrying everything the client said.
        var sent = Assert.Single(provider.Requests).Body!;
        var expected = JsonNode.Parse("""
            {"model":"upstream-glm-5",
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"system","content":"Use tools."},
               {"role":"user","content":[{"type":"text","text":"Weather here?"},{"type":"image_url","image_url":{"url":"https://example.test/sky.png","detail":"low"}}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
               {"role":"tool","tool_call_id":"call_0","content":"12:00"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},
             "max_tokens":8192,"temperature":0.5,"response_format":{"type":"json_object"},"user":"end-user-7","stream":false}
            """)!.AsObject();
        foreach (var (name, value) in expected)
        {
            Assert.True(JsonNode.DeepEquals(value, sent[name]), $"{name}: expected {value?.ToJsonString()}, sent {sent[name]?.ToJsonString()}");
        }

        // The client gets the reasoning and the call as output items, and Portal's settled usage.
        Assert.Equal(("glm-5", ResponseStatus.Completed), (response.Model, response.Status));
        var reasoning = Assert.IsAssignableFrom<ReasoningResponseItem>(response.OutputItems[0]);
        Assert.Equal("The user wants the weather.", reasoning.GetSummaryText());
        var call = Assert.IsAssignableFrom<FunctionCallResponseItem>(response.OutputItems[1]);
        Assert.Equal(("call_abc", "get_weather", """{"city":"Paris"}"""), (call.CallId, call.FunctionName, call.FunctionArguments.ToString()));
        Assert.Equal((1200, 100, 345, 40, 1545), (response.Usage.InputTokenCount, response.Usage.InputTokenDetails.CachedTokenCount,
            response.Usage.OutputTokenCount, response.Usage.OutputTokenDetails.ReasoningTokenCount, response.Usage.TotalTokenCount));

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Responses, Provenance.Reported, "end-user-7"), (record.Api, record.Provenance, record.EndUser));
        Assert.Equal((1200, 345, 100), (record.PromptTokens, record.CompletionTokens, record.CachedTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        Assert.Equal(Money.Cost(1200, 100, 345, Glm5Input, record.CachedInputPriceMicros, Glm5Output), record.CostMicros);
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task AProvidersStreamBecomesTheTypedEventsWithItsReasoningTextAndUsage()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Chunks.Delta(new JsonObject { ["role"] = "assistant", ["reasoning_content"] = "Thinking" }),
            Chunks.Delta(new JsonObject { ["reasoning_content"] = " hard." }),
            Chunks.Content("Hello"),
            Chunks.Content(", world.", finishReason: "stop"),
            Chunks.Usage(prompt: 20, completion: 7, reasoning: 3)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var client = _app.OpenAiResponses(account.Key);

        var kinds = new List<string>();
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("glm-5", [ResponseItem.CreateUserMessageItem("Hi")]) { StreamingEnabled = true }))
        {
            kinds.Add(update.GetType().Name.Replace("StreamingResponse", "").Replace("Update", ""));
            completed = (update as StreamingResponseCompletedUpdate)?.Response ?? completed;
        }

        Assert.Equal(
            [
                "Created", "InProgress",
                "OutputItemAdded", "ReasoningSummaryPartAdded", "ReasoningSummaryTextDelta", "ReasoningSummaryTextDelta",
                "ReasoningSummaryTextDone", "ReasoningSummaryPartDone", "OutputItemDone",
                "OutputItemAdded", "ContentPartAdded", "OutputTextDelta", "OutputTextDelta", "OutputTextDone", "ContentPartDone", "OutputItemDone",
                "Completed",
            ], kinds);
        Assert.NotNull(completed);
        Assert.Equal("Hello, world.", completed.GetOutputText());
        Assert.Equal("Thinking hard.", Assert.IsAssignableFrom<ReasoningResponseItem>(completed.OutputItems[0]).GetSummaryText());
        Assert.Equal((20, 7, 3), (completed.Usage.InputTokenCount, completed.Usage.OutputTokenCount, completed.Usage.OutputTokenDetails.ReasoningTokenCount));
        var sent = Assert.Single(provider.Requests).Body!;
        Assert.True(sent["stream"]!.GetValue<bool>());

        var cost = Money.Cost(20, 7, Glm5Input, Glm5Output);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Responses, true, 20, 7, cost), (record.Api, record.Stream, record.PromptTokens, record.CompletionTokens, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task AProviderFailingMidStreamEndsTheStreamWithErrorAndResponseFailed()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamWithoutDone(Chunks.Content("Hello"), Chunks.Content(" there")));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/responses")
        {
            Content = new StringContent("""{"model":"glm-5","input":"Hi","stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        });
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonNode.Parse(e.Split("data: ")[1])!).ToList();

        Assert.Equal(["error", "response.failed"], events.TakeLast(2).Select(e => e["type"]!.GetValue<string>()));
        var failed = events[^1]["response"]!;
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal(events[^2]["code"]!.GetValue<string>(), failed["error"]!["code"]!.GetValue<string>());
        Assert.Equal("Hello there", failed["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Responses, Provenance.Partial), (record.Api, record.Provenance)); // charged for what was delivered
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }
}
