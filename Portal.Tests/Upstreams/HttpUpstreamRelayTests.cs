using Portal.Billing;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>Portal in front of a real (loopback) OpenAI-compatible provider that answers well.</summary>
public sealed class HttpUpstreamRelayTests : IDisposable
{
    private const string UpstreamKey = "sk-upstream-secret-4f9c2a7e1b";
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task NonStreamingRequestAsksTheUpstreamForOneReplyAndIsChargedAtTheReportedUsage()
    {
        var reply = Completion("Hello there, friend.", prompt: 1200, completion: 345);
        reply["usage"]!["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 100 };
        reply["usage"]!["cost"] = 99.5m; // OpenRouter reports its own price; Portal must not pass it on
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(reply));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var clientBody = JsonNode.Parse("""
            {"model":"zhipu/glm-5",
             "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Say hello."}]}],
             "max_completion_tokens":50000,"temperature":0.3,"top_k":5,
             "x_vendor_flag":{"keep":true,"list":[1,"two"]},"safety_mode":"strict"}
            """)!.AsObject();

        var response = await _app.ApiClient(account.Key).PostChatAsync(clientBody.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(provider.Requests);
        Assert.Equal(("POST", "/v1/chat/completions"), (sent.Method, sent.Path));
        Assert.Equal(("Bearer " + UpstreamKey, "application/json"), (sent.Header("Authorization"), sent.Header("Accept")));
        // The client's body exactly, unknown fields included, with only these changed: the upstream's
        // model name, the effective max_tokens (50,000 capped at glm-5's 8,192), one reply asked for.
        var expected = clientBody.DeepClone().AsObject();
        expected["model"] = "upstream-glm-5";
        expected.Remove("max_completion_tokens");
        expected["max_tokens"] = 8192;
        expected["stream"] = false;
        Assert.True(JsonNode.DeepEquals(expected, sent.Body), $"upstream got {sent.Body?.ToJsonString()}");

        var completion = await response.JsonBodyAsync();
        Assert.Equal((response.CompletionId(), "chat.completion", "glm-5"),
            (completion["id"]!.GetValue<string>(), completion["object"]!.GetValue<string>(), completion["model"]!.GetValue<string>()));
        var choice = Assert.Single(completion["choices"]!.AsArray())!;
        Assert.Equal(("assistant", "Hello there, friend.", "stop"),
            (choice["message"]!["role"]!.GetValue<string>(), choice["message"]!["content"]!.GetValue<string>(), choice["finish_reason"]!.GetValue<string>()));
        var cost = Money.Cost(1200, 345, Glm5Input, Glm5Output);
        Assert.Equal(3525, cost); // 1,200 × $1.50/1M + 345 × $5/1M, in micro-dollars
        var usage = completion["usage"]!;
        Assert.Equal((1200, 345, 1545, 100),
            (usage["prompt_tokens"]!.GetValue<int>(), usage["completion_tokens"]!.GetValue<int>(), usage["total_tokens"]!.GetValue<int>(),
             usage["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>()));
        Assert.Equal(Money.ToUsd(cost), usage["cost"]!.GetValue<decimal>()); // Portal's price, not the provider's 99.5

        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((Provenance.Reported, $"{upstream.Id}:upstream-glm-5", 200, false), (record.Provenance, record.Upstream, record.Status, record.Stream));
        Assert.Equal((1200, 345, 100, cost), (record.PromptTokens, record.CompletionTokens, record.CachedTokens, record.CostMicros));
        Assert.Null(record.TimeToFirstTokenMs); // the reply came whole: when its first token was written is unknown
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task StreamIsRelayedChunkByChunkUnderPortalsIdAndModelWithReasoningAndToolCallDeltasIntact()
    {
        JsonObject[] choiceChunks =
        [
            Chunks.Delta(new JsonObject { ["role"] = "assistant", ["reasoning_content"] = "The user wants" }),
            Chunks.Delta(new JsonObject { ["reasoning_content"] = " the weather." }),
            Chunks.Content("Let me check."),
            Chunks.Delta(new JsonObject
            {
                ["tool_calls"] = JsonNode.Parse("""[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]"""),
            }),
            Chunks.Delta(new JsonObject { ["tool_calls"] = JsonNode.Parse("""[{"index":0,"function":{"arguments":"{\"city\":"}}]""") }),
            Chunks.Delta(new JsonObject { ["tool_calls"] = JsonNode.Parse("""[{"index":0,"function":{"arguments":"\"Paris\"}"}}]""") }),
            Chunks.Delta([], finishReason: "tool_calls"),
        ];
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream([.. choiceChunks, Chunks.Usage(prompt: 80, completion: 30, reasoning: 6)]));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync("""
            {"model":"glm-5","messages":[{"role":"user","content":"Weather in Paris?"}],"stream":true,"stream_options":{"include_usage":true},
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = await SseReader.OpenAsync(response);
        var events = await reader.RestAsync();
        Assert.Equal(choiceChunks.Length + 2, events.Count); // the choice chunks, Portal's usage chunk, [DONE]
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!.AsObject()).ToList();
        Assert.All(chunks, c => Assert.Equal((response.CompletionId(), "glm-5", "chat.completion.chunk"),
            (c["id"]!.GetValue<string>(), c["model"]!.GetValue<string>(), c["object"]!.GetValue<string>())));
        for (var i = 0; i < choiceChunks.Length; i++)
        {
            var sent = choiceChunks[i]["choices"]![0]!;
            var relayed = Assert.Single(chunks[i]["choices"]!.AsArray())!;
            Assert.True(JsonNode.DeepEquals(sent["delta"], relayed["delta"]), $"chunk {i}: sent {sent["delta"]!.ToJsonString()}, relayed {relayed["delta"]?.ToJsonString()}");
            Assert.Equal(sent["finish_reason"]?.GetValue<string>(), relayed["finish_reason"]?.GetValue<string>());
            Assert.Null(chunks[i]["usage"]);
        }

        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        var cost = Money.Cost(80, 30, Glm5Input, Glm5Output);
        Assert.Equal((80, 30, 110, 6, Money.ToUsd(cost)),
            (usageChunk["usage"]!["prompt_tokens"]!.GetValue<int>(), usageChunk["usage"]!["completion_tokens"]!.GetValue<int>(),
             usageChunk["usage"]!["total_tokens"]!.GetValue<int>(), usageChunk["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!.GetValue<int>(),
             usageChunk["usage"]!["cost"]!.GetValue<decimal>()));
        var sentBody = Assert.Single(provider.Requests).Body!;
        Assert.Equal((true, true), (sentBody["stream"]!.GetValue<bool>(), sentBody["stream_options"]!["include_usage"]!.GetValue<bool>()));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task UsageTheUpstreamDoesNotReportIsEstimatedWithPortalsTokenRuleAndMarkedEstimated()
    {
        const string prompt = "What is six times seven?";
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Chunks.Delta(new JsonObject { ["role"] = "assistant", ["reasoning_content"] = "Six sevens: 42." }),
            Chunks.Content("The answer is "),
            Chunks.Content("forty-two (42).", finishReason: "stop")));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":200}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var promptTokens = TokenEstimator.PromptTokens([new ChatMessage("user", prompt)]);
        var completionTokens = TokenEstimator.Count("Six sevens: 42.") + TokenEstimator.Count("The answer is forty-two (42).");
        Assert.Equal((3 + 4 + 8, 6 + 12), (promptTokens, completionTokens)); // the rule, worked by hand ("times", "sevens", "answer", "forty" are 2 each)
        var cost = Money.Cost(promptTokens, completionTokens, Glm5Input, Glm5Output);
        var completion = await response.JsonBodyAsync();
        Assert.Equal("The answer is forty-two (42).", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("Six sevens: 42.", completion["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>());
        Assert.Equal((promptTokens, completionTokens, Money.ToUsd(cost)),
            (completion["usage"]!["prompt_tokens"]!.GetValue<int>(), completion["usage"]!["completion_tokens"]!.GetValue<int>(), completion["usage"]!["cost"]!.GetValue<decimal>()));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((Provenance.Estimated, promptTokens, completionTokens, cost), (record.Provenance, record.PromptTokens, record.CompletionTokens, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ProviderThatStreamsThoughAskedForOneReplyStillGivesANonStreamingClientItsCompletion()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Chunks.Delta(new JsonObject { ["role"] = "assistant", ["content"] = "" }),
            Chunks.Content("Hello"),
            Chunks.Content(" there,"),
            Chunks.Content(" friend.", finishReason: "stop"),
            Chunks.Usage(prompt: 21, completion: 5)));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var completion = await response.JsonBodyAsync();
        Assert.Equal((response.CompletionId(), "glm-5"), (completion["id"]!.GetValue<string>(), completion["model"]!.GetValue<string>()));
        var choice = Assert.Single(completion["choices"]!.AsArray())!;
        Assert.Equal(("Hello there, friend.", "stop"), (choice["message"]!["content"]!.GetValue<string>(), choice["finish_reason"]!.GetValue<string>()));
        var cost = Money.Cost(21, 5, Glm5Input, Glm5Output);
        Assert.Equal((21, 5, Money.ToUsd(cost)),
            (completion["usage"]!["prompt_tokens"]!.GetValue<int>(), completion["usage"]!["completion_tokens"]!.GetValue<int>(), completion["usage"]!["cost"]!.GetValue<decimal>()));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((Provenance.Reported, $"{upstream.Id}:upstream-glm-5", cost), (record.Provenance, record.Upstream, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task NonStreamingClientThatLeavesIsChargedForTheWholeReplyTheUpstreamWrote()
    {
        // ADR 8: a provider asked for one reply writes (and bills) all of it, whoever is still waiting.
        var clientGone = new TaskCompletionSource();
        var answered = false;
        await using var provider = await FakeUpstream.StartAsync(async (http, cancellationToken) =>
        {
            await clientGone.Task.WaitAsync(cancellationToken);
            await Reply.Json(Completion("A reply nobody reads.", prompt: 30, completion: 400))(http, cancellationToken);
            answered = true;
        });
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        using var leave = new CancellationTokenSource();

        var call = _app.ApiClient(account.Key).PostAsync("/api/v1/chat/completions",
            new StringContent("""{"model":"glm-5","messages":[{"role":"user","content":"Write at length."}],"max_tokens":500}""", Encoding.UTF8, "application/json"), leave.Token);
        for (var waited = 0; provider.Requests.Count == 0 && !call.IsCompleted && waited < 500; waited++)
        {
            await Task.Delay(20);
        }

        Assert.False(call.IsCompleted, "the request ended before reaching the provider");

        leave.Cancel(); // the client leaves while the provider is still writing
        clientGone.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        var record = await _app.WaitForUsageRecordAsync(account.UserId);
        Assert.True(answered, "Portal cancelled the provider's call");
        var cost = Money.Cost(30, 400, Glm5Input, Glm5Output);
        Assert.Equal((499, "client_disconnected", Provenance.Reported), (record.Status, record.ErrorCode, record.Provenance));
        Assert.Equal((30, 400, cost), (record.PromptTokens, record.CompletionTokens, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ProviderThatIgnoresStreamAndAnswersJsonIsRelayedToAStreamingClientAsChunks()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Json(Completion("A plain JSON reply.", prompt: 21, completion: 5)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", UpstreamKey);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = await SseReader.OpenAsync(response);
        var events = await reader.RestAsync();
        Assert.Equal(3, events.Count);
        Assert.Equal("[DONE]", events[2]);
        var content = JsonNode.Parse(events[0])!;
        Assert.Equal((response.CompletionId(), "glm-5"), (content["id"]!.GetValue<string>(), content["model"]!.GetValue<string>()));
        Assert.Equal(("A plain JSON reply.", "stop"),
            (content["choices"]![0]!["delta"]!["content"]!.GetValue<string>(), content["choices"]![0]!["finish_reason"]!.GetValue<string>()));
        var usage = JsonNode.Parse(events[1])!["usage"]!;
        Assert.Equal((21, 5, Money.ToUsd(Money.Cost(21, 5, Glm5Input, Glm5Output))),
            (usage["prompt_tokens"]!.GetValue<int>(), usage["completion_tokens"]!.GetValue<int>(), usage["cost"]!.GetValue<decimal>()));
    }

    /// <summary>A <c>chat.completion</c> as providers send it, with their own id and model (which Portal must replace).</summary>
    private static JsonObject Completion(string content, int prompt, int completion) => new()
    {
        ["id"] = "chatcmpl-provider-json",
        ["object"] = "chat.completion",
        ["created"] = 1_700_000_000,
        ["model"] = "provider-model-v1",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = null },
            ["logprobs"] = null,
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion },
    };
}
