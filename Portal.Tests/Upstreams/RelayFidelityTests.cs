using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenAI.Chat;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>
/// Nothing a provider writes is lost on the way to the client (ADR 24): every field of a reply and of
/// each chunk arrives as the provider wrote it, with only id, object, created and model Portal's, usage
/// Portal's (the provider's fields kept, its price replaced) and the client's request_id echoed.
/// </summary>
public sealed class RelayFidelityTests : IDisposable
{
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    // Fields no typed client model has (annotations, Zhipu's web_search and content_filter, a future
    // field with a number written "2.50" and raw UTF-8), alongside logprobs and an upstream request_id.
    private const string FutureField = "\"x_future\":{\"list\":[1,2.50,\"ü ☃\"],\"nested\":{\"deep\":true}}";
    private const string Logprobs = """{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hey","logprob":-1.75,"bytes":[72,101,121]}]}],"refusal":null}""";

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_non_streamed_reply_reaches_the_client_whole_with_only_portals_fields_rewritten()
    {
        var upstreamReply = """
            {"id":"chatcmpl-provider","object":"chat.completion","created":1700000000,"model":"provider-model","request_id":"provider-req-1",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null,
                "annotations":[{"type":"url_citation","url_citation":{"url":"https://example.org/a","title":"A","start_index":0,"end_index":2}}]},
                "logprobs":LOGPROBS,"finish_reason":"stop"}],
             "system_fingerprint":"fp_123","service_tier":"default",
             "web_search":[{"title":"A","link":"https://example.org/a","content":"…"}],
             "content_filter":[{"role":"assistant","level":3}],
             FUTURE,
             "usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},
                "completion_tokens_details":{"reasoning_tokens":0,"accepted_prediction_tokens":0},"cost":42}}
            """.Replace("LOGPROBS", Logprobs).Replace("FUTURE", FutureField);
        await using var provider = await FakeUpstream.StartAsync(Reply.Raw(200, "application/json", upstreamReply));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"request_id":"client-req-42","logprobs":true,"top_logprobs":2,"x_vendor":{"keep":1}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(FutureField, text); // byte for byte: not "2.5", not "\u00FC"
        var cost = Money.Cost(12, 1, Glm5Input, Glm5Output);
        var expected = JsonNode.Parse(upstreamReply)!.AsObject();
        expected["id"] = response.CompletionId();
        expected["model"] = "glm-5";
        expected["request_id"] = "client-req-42";
        expected["usage"]!["cost"] = Money.ToUsd(cost);
        var actual = JsonNode.Parse(text)!.AsObject();
        expected["created"] = actual["created"]!.GetValue<long>();
        Assert.True(JsonNode.DeepEquals(expected, actual), $"got {text}");

        // The client's fields reach the provider; request_id, which Portal answers itself, does not.
        var sent = Assert.Single(provider.Requests).Body!;
        Assert.Equal((true, 2, 1), (sent["logprobs"]!.GetValue<bool>(), sent["top_logprobs"]!.GetValue<int>(), sent["x_vendor"]!["keep"]!.GetValue<int>()));
        Assert.False(sent.ContainsKey("request_id"));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task Every_chunk_reaches_the_client_as_the_provider_wrote_it_and_the_usage_keeps_the_providers_fields()
    {
        string[] chunks =
        [
            // Azure's first chunk: no choices, the prompt's filter results. Not usage: relayed.
            """{"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}""",
            """{"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","system_fingerprint":"fp_9","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":LOGPROBS,"finish_reason":null}],"usage":null,FUTURE}""".Replace("LOGPROBS", Logprobs).Replace("FUTURE", FutureField),
            """{"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","system_fingerprint":"fp_9","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop","content_filter_results":{"hate":{"filtered":false}}}],"usage":null}""",
            """{"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","system_fingerprint":"fp_9","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":3},"completion_tokens_details":{"reasoning_tokens":0},"cost":7}}""",
        ];
        var sse = string.Concat(chunks.Select(c => $"data: {c}\n\n")) + "data: [DONE]\n\n";
        await using var provider = await FakeUpstream.StartAsync(Reply.Raw(200, "text/event-stream", sse));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true},"request_id":"client-req-43"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = await SseReader.OpenAsync(response);
        var events = await reader.RestAsync();
        Assert.Equal(["[DONE]"], events[4..]);
        Assert.Contains(FutureField, events[1]);
        var created = JsonNode.Parse(events[0])!["created"]!.GetValue<long>();
        for (var i = 0; i < 3; i++)
        {
            var expected = JsonNode.Parse(chunks[i])!.AsObject();
            expected["id"] = response.CompletionId();
            expected["model"] = "glm-5";
            expected["created"] = created;
            expected["request_id"] = "client-req-43";
            expected.Remove("usage"); // Portal's follows settlement
            Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(events[i])), $"chunk {i}: {events[i]}");
        }

        var cost = Money.Cost(9, 1, Glm5Input, Glm5Output);
        var usageChunk = JsonNode.Parse(events[3])!.AsObject();
        var expectedUsage = JsonNode.Parse(chunks[3])!["usage"]!.AsObject();
        expectedUsage["cost"] = Money.ToUsd(cost);
        Assert.True(JsonNode.DeepEquals(expectedUsage, usageChunk["usage"]), events[3]);
        Assert.Equal(("client-req-43", 0), (usageChunk["request_id"]!.GetValue<string>(), usageChunk["choices"]!.AsArray().Count));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task The_openai_sdk_reads_the_providers_logprobs_and_fingerprint_streamed_and_not()
    {
        var whole = """{"id":"p","object":"chat.completion","created":1,"model":"pm","system_fingerprint":"fp_1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"logprobs":LOGPROBS,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""".Replace("LOGPROBS", Logprobs);
        var streamed = """
            data: {"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","system_fingerprint":"fp_2","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":LOGPROBS,"finish_reason":"stop"}]}

            data: {"id":"p","object":"chat.completion.chunk","created":1,"model":"pm","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}

            data: [DONE]


            """.Replace("LOGPROBS", Logprobs);
        await using var provider = await FakeUpstream.StartAsync(Reply.Raw(200, "application/json", whole), Reply.Raw(200, "text/event-stream", streamed));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var chat = _app.OpenAiChat(account.Key);
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hi")], options);
        var streamedLogprobs = new List<ChatTokenLogProbabilityDetails>();
        string? fingerprint = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], options))
        {
            streamedLogprobs.AddRange(update.ContentTokenLogProbabilities);
            fingerprint ??= update.SystemFingerprint;
        }

        foreach (var logprobs in new[] { completion.ContentTokenLogProbabilities.ToList(), streamedLogprobs })
        {
            var token = Assert.Single(logprobs);
            Assert.Equal(("Hi", -0.25f, 2), (token.Token, token.LogProbability, token.TopLogProbabilities.Count));
            Assert.Equal(("Hey", -1.75f), (token.TopLogProbabilities[1].Token, token.TopLogProbabilities[1].LogProbability));
        }

        Assert.Equal(("fp_1", "fp_2"), (completion.SystemFingerprint, fingerprint));
    }

    [Fact]
    public async Task A_provider_that_ignores_stream_false_still_relays_every_chunk_field_it_can_and_bills_alike()
    {
        // Assembled from chunks, the reply is Portal's own shape: what the typed reply has no place for is lost, the charge is not.
        await using var provider = await FakeUpstream.StartAsync(Reply.Stream(
            Chunks.Content("Hello", finishReason: "stop"), Chunks.Usage(prompt: 5, completion: 1)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"request_id":"client-req-44"}""");

        var completion = await response.JsonBodyAsync();
        Assert.Equal(("client-req-44", "Hello"), (completion["request_id"]!.GetValue<string>(), completion["choices"]![0]!["message"]!["content"]!.GetValue<string>()));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal(Money.Cost(5, 1, Glm5Input, Glm5Output), record.CostMicros);
    }
}
