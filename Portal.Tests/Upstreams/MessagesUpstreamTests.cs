using System.Text;
using System.Text.Json.Nodes;
using Anthropic.Models.Messages;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>The Messages API in front of a real (loopback) OpenAI-compatible provider, through Anthropic's SDK.</summary>
public sealed class MessagesUpstreamTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task TheProviderGetsTheTranslatedChatRequestAndTheClientAnthropicsReplyAtTheReportedUsage()
    {
        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-provider",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = "provider-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = "Checking.",
                    ["reasoning_content"] = "The user wants the weather.",
                    ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" } }),
                },
                ["finish_reason"] = "tool_calls",
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 1200, ["completion_tokens"] = 345, ["total_tokens"] = 1545, ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 200 } },
        };
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(completion));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var body = """
            {"model":"glm-5","max_tokens":3000,"system":[{"type":"text","text":"Be brief."}],"temperature":0.5,"top_k":7,"stop_sequences":["END"],
             "metadata":{"user_id":"u-1"},"thinking":{"type":"enabled","budget_tokens":1024},
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
             "tool_choice":{"type":"any","disable_parallel_tool_use":true},
             "messages":[{"role":"user","content":"Weather in Paris?"},
               {"role":"assistant","content":[{"type":"thinking","thinking":"…","signature":"sig"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18 C"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},{"type":"text","text":"And now?"}]}]}
            """;
        var response = await _app.ApiClient(account.Key).PostMessagesAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        var sent = Assert.Single(provider.Requests).Body!;
        var expected = JsonNode.Parse("""
            {"model":"upstream-glm-5","messages":[
               {"role":"system","content":"Be brief."},
               {"role":"user","content":"Weather in Paris?"},
               {"role":"assistant","content":"","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"toolu_1","content":"18 C"},
               {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"And now?"}]}],
             "max_tokens":3000,"stop":["END"],"temperature":0.5,"top_k":7,
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required","parallel_tool_calls":false,"thinking":{"type":"enabled"},"user":"u-1","stream":false}
            """);
        Assert.True(JsonNode.DeepEquals(expected, sent), $"upstream got {sent.ToJsonString()}");

        var message = JsonNode.Parse(text)!;
        var expectedMessage = JsonNode.Parse($$$"""
            {"id":"msg_{{{response.Headers.GetValues("x-request-id").Single()}}}","type":"message","role":"assistant","model":"glm-5",
             "content":[{"type":"thinking","thinking":"The user wants the weather.","signature":""},{"type":"text","text":"Checking."},
                        {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use","stop_sequence":null,
             "usage":{"input_tokens":1000,"output_tokens":345,"cache_creation_input_tokens":0,"cache_read_input_tokens":200}}
            """);
        Assert.True(JsonNode.DeepEquals(expectedMessage, message), text);

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, Provenance.Reported, 1200, 345, 200, "u-1"), (record.Api, record.Provenance, record.PromptTokens, record.CompletionTokens, record.CachedTokens, record.EndUser));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task AStreamFromTheProviderBecomesAnthropicsEventsWithThePortalsSettledUsage()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Chunks.Delta(new JsonObject { ["role"] = "assistant", ["reasoning_content"] = "Hm." }),
            Chunks.Content("Hello"),
            Chunks.Content(" world", "stop"),
            Chunks.Usage(prompt: 50, completion: 7, cached: 10)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var events = new List<RawMessageStreamEvent>();
        await foreach (var e in _app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 100,
            Messages = [new UserMessageParam { Content = "Hi" }],
        }))
        {
            events.Add(e);
        }

        Assert.True(Assert.Single(provider.Requests).Body!["stream_options"]!["include_usage"]!.GetValue<bool>());
        var thinking = events.Where(e => e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickThinking(out _)).Count();
        var text = string.Concat(events.Select(e => e.TryPickContentBlockDelta(out var d) && d.Delta.TryPickText(out var t) ? t.Text : ""));
        Assert.Equal((1, "Hello world"), (thinking, text));
        Assert.Equal(2, events.Count(e => e.TryPickContentBlockStart(out _)));
        Assert.True(events[^2].TryPickDelta(out var delta));
        Assert.Equal(("end_turn", 7L, 40L, 10L), (delta!.Delta.StopReason!.Raw(), delta.Usage.OutputTokens, delta.Usage.InputTokens!.Value, delta.Usage.CacheReadInputTokens!.Value));
        Assert.True(events[^1].TryPickStop(out _));

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((FrontDoor.Messages, 50, 7), (record.Api, record.PromptTokens, record.CompletionTokens));
        Assert.Equal(Money.FromUsd(1m) - record.CostMicros, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task AProviderThatFailsMidStreamEndsItWithAnAnthropicErrorEvent()
    {
        // The provider breaks off only once the client has the first text: the failure is mid-stream.
        var abort = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamThenAbort(abort.Task, Chunks.Content("Hello")));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/messages")
        {
            Content = new StringContent("""{"model":"glm-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var read = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            read.Append(line).Append('\n');
            if (line.Contains("\"text_delta\"", StringComparison.Ordinal))
            {
                abort.SetResult();
                break;
            }
        }

        var stream = read + await reader.ReadToEndAsync();

        Assert.StartsWith("event: message_start\n", stream);
        Assert.Contains("event: content_block_delta\n", stream);
        Assert.EndsWith("\n\n", stream);
        var last = stream.TrimEnd().Split("\n\n")[^1];
        Assert.StartsWith("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":", last);
        Assert.DoesNotContain("message_stop", stream);
        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Messages, Provenance.Partial), (record.Api, record.Provenance));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ToolCallsAProviderNumbersAllZeroAreStillSeparateToolUseBlocks()
    {
        JsonObject Call(string id, string name, string arguments) => Chunks.Delta(new JsonObject
        {
            ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["id"] = id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments } }),
        });
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Call("call_a", "get_weather", """{"city":"Paris"}"""),
            Call("call_b", "get_time", """{"zone":"CET"}"""),
            Chunks.Delta(new JsonObject(), "tool_calls"),
            Chunks.Usage(prompt: 30, completion: 12)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync();

        // The SDK's own aggregator assembles the message from the events, as applications do.
        var message = await Anthropic.SseAggregatorExtensions.Aggregate(_app.Anthropic(account.Key).Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 100,
            Messages = [new UserMessageParam { Content = "Weather and time in Paris?" }],
        }));

        var calls = message.Content.Select(b => b.Value).OfType<ToolUseBlock>().ToList();
        Assert.Equal([("call_a", "get_weather", "Paris"), ("call_b", "get_time", "CET")],
            calls.Select(c => (c.ID, c.Name, c.Input.Values.Single().GetString())));
        Assert.Equal("tool_use", message.StopReason!.Raw());
    }

    [Fact]
    public async Task AProviderThatFailsBeforeAnyReplyIsAnAnthropicApiErrorAndCostsNothing()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(500, "boom"));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var failed = await Assert.ThrowsAnyAsync<Anthropic.Exceptions.Anthropic5xxException>(() => _app.Anthropic(account.Key).Messages.Create(new MessageCreateParams
        {
            Model = "glm-5",
            MaxTokens = 20,
            Messages = [new UserMessageParam { Content = "Hi" }],
        }));

        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.Equal((FrontDoor.Messages, 502), (record.Api, record.Status));
    }
}
