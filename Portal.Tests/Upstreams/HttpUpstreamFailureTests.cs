using Portal.Billing;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>Portal in front of providers that fail: retries, fallback, errors, timeouts, broken streams.</summary>
public sealed class HttpUpstreamFailureTests : IDisposable
{
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100}""";
    private const string HelloStream = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}""";
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private static UpstreamReply Answer() => Reply.Stream(Chunks.Content("Hi!", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 2));

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    public async Task UpstreamThatFailsOnceWithARetryableStatusIsTriedAgain(int status)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(status, "try again"), Answer());
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream-secret-retry");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hi!", (await response.JsonBodyAsync())["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(2, provider.Requests.Count);
        Assert.True(JsonNode.DeepEquals(provider.Requests[0].Body, provider.Requests[1].Body), "the retry sent a different body");
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((200, $"{upstream.Id}:upstream-glm-5", Money.Cost(9, 2, Glm5Input, Glm5Output)), (record.Status, record.Upstream, record.CostMicros));
    }

    [Fact]
    public async Task UpstreamThatKeepsAnswering503FallsBackToTheNextByPriority()
    {
        await using var primary = await FakeUpstream.StartAsync(Reply.Error(503, "overloaded"));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        // Inserted backup first: the order must come from Priority, not from the ids.
        var second = await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", "sk-upstream-secret-backup", priority: 1);
        await _app.AddUpstreamAsync("glm-5", primary.BaseUrl, "primary-glm", "sk-upstream-secret-primary", priority: 0);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, primary.Requests.Count); // both attempts on the primary
        Assert.All(primary.Requests, r => Assert.Equal(("primary-glm", "Bearer sk-upstream-secret-primary"), (r.Body!["model"]!.GetValue<string>(), r.Header("Authorization"))));
        var fallback = Assert.Single(backup.Requests);
        Assert.Equal(("backup-glm", "Bearer sk-upstream-secret-backup"), (fallback.Body!["model"]!.GetValue<string>(), fallback.Header("Authorization")));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((200, $"{second.Id}:backup-glm"), (record.Status, record.Upstream));
    }

    [Fact]
    public async Task UpstreamThatRefusesConnectionsFallsBackToTheNextByPriority()
    {
        await using var backup = await FakeUpstream.StartAsync(Answer());
        await _app.AddUpstreamAsync("glm-5", UpstreamFixtures.ClosedPortBaseUrl(), "primary-glm", priority: 0);
        var second = await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(backup.Requests);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((200, $"{second.Id}:backup-glm"), (record.Status, record.Upstream));
    }

    [Fact]
    public async Task NonRetryable400IsRelayedAfterOneCallWithoutLeakingTheProvidersSecretAndRefundsInFull()
    {
        const string leaked = "sk-live-abcdefghijklmnopqrstuvwxyz123456";
        await using var provider = await FakeUpstream.StartAsync(Reply.Error(400, $"invalid key {leaked} for project proj_a1b2c3"));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        var refusing = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", "sk-upstream-secret-400", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        // The provider's refusal of the request, relayed as such (ADR 21); ProviderErrorRelayTests has the rest.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("invalid [redacted] for project proj_a1b2c3", error["message"]!.GetValue<string>());
        Assert.DoesNotContain("abcdefghijklmnopqrstuvwxyz123456", text);
        Assert.DoesNotContain("sk-upstream-secret", text);
        Assert.Single(provider.Requests);
        Assert.Empty(backup.Requests); // a 400 is not the provider's fault: no retry, no fallback
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((400, "invalid_request_error", 0L, $"{refusing.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.Upstream));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task ShortRetryAfterIsWaitedForOnTheSameUpstream()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.RateLimited(retryAfterSeconds: 1), Answer());
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task LongRetryAfterMovesOnToTheNextUpstreamAtOnce()
    {
        await using var primary = await FakeUpstream.StartAsync(Reply.RateLimited(retryAfterSeconds: 120));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        await _app.AddUpstreamAsync("glm-5", primary.BaseUrl, "primary", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(primary.Requests);
        Assert.Single(backup.Requests);
    }

    [Fact]
    public async Task ReplyThatEndsWithoutDoneIsAnErrorNotASuccess()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamWithoutDone(Chunks.Content("Half an ans")));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("before finishing", (await response.JsonBodyAsync())["error"]!["message"]!.GetValue<string>());
        // Nothing reached this non-streaming client, so nothing is charged.
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((502, "upstream_error", 0L), (record.Status, record.ErrorCode, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
    }

    [Fact]
    public async Task UpstreamSlowerThanItsTimeoutGives504AndRefundsInFull()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.After(TimeSpan.FromSeconds(30), Answer()));
        var slow = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", timeoutSeconds: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(HelloStream);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", (await response.JsonBodyAsync())["error"]!["code"]!.GetValue<string>());
        Assert.Equal(2, provider.Requests.Count); // tried again before giving up (each call is recorded on arrival, long before its 1 s is up)
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((504, "upstream_timeout", 0L, $"{slow.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.Upstream));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task UpstreamThatSendsHeadersButNoChunkWithinItsTimeoutGives504()
    {
        // Streaming providers answer 200 at once and only then start generating; a stalled one must
        // still time out rather than hold the client (and its credits) for as long as it likes.
        await using var provider = await FakeUpstream.StartAsync(Reply.HeadersThenSilence(TimeSpan.FromSeconds(5),
            Chunks.Content("Too late.", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 3)));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", timeoutSeconds: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(HelloStream);

        Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task NonStreamedReplyMayTakeLongerThanTheUpstreamsTimeoutButNotLongerThanNonStreamingReplySeconds()
    {
        // A provider asked for one reply is silent until it has written all of it (ADR 8).
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Gateway:NonStreamingReplySeconds"] = "3" });
        var reply = Reply.Json(JsonNode.Parse("""
            {"id":"x","object":"chat.completion","created":1700000000,"model":"m",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Worth the wait."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}
            """)!.AsObject());
        await using var slow = await FakeUpstream.StartAsync(Reply.After(TimeSpan.FromSeconds(1.5), reply));
        await using var stalled = await FakeUpstream.StartAsync(Reply.After(TimeSpan.FromSeconds(30), reply));
        await app.AddUpstreamAsync("glm-5", slow.BaseUrl, "slow", timeoutSeconds: 1);
        await app.AddUpstreamAsync("kimi-k2", stalled.BaseUrl, "stalled", timeoutSeconds: 1);
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var client = app.ApiClient(account.Key);

        var waited = await client.PostChatAsync(Hello);
        var gaveUp = await client.PostChatAsync(Hello.Replace("glm-5", "kimi-k2"));

        Assert.True(waited.StatusCode == HttpStatusCode.OK, $"{(int)waited.StatusCode}: {await waited.Content.ReadAsStringAsync()}");
        Assert.Equal("Worth the wait.", (await waited.JsonBodyAsync())["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.GatewayTimeout, gaveUp.StatusCode);
        Assert.Contains("within 3 s", (await gaveUp.JsonBodyAsync())["error"]!["message"]!.GetValue<string>());
        Assert.Equal(Money.FromUsd(1m) - Money.Cost(9, 4, Glm5Input, Glm5Output), await app.BalanceAsync(account.UserId));
        await app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task UpstreamThatBreaksBeforeItsFirstChunkIsTriedAgain()
    {
        // A connection failure before any byte reached the client is retried. Here the
        // provider sent its 200 headers, then the connection broke; the streaming client has seen nothing.
        await using var provider = await FakeUpstream.StartAsync(Reply.HeadersThenBreak(), Answer());
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}""");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("\"content\":\"Hi!\"", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Equal(2, provider.Requests.Count);
    }

    [Fact]
    public async Task StreamThatBreaksMidWayEndsWithAnErrorEventAndChargesWhatWasDelivered()
    {
        var seenByClient = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string[] pieces = ["Once upon", " a time,", " there was"];
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamThenAbort(seenByClient.Task, [.. pieces.Select(p => Chunks.Content(p))]));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Tell me a story."}],"stream":true,"stream_options":{"include_usage":true}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = await SseReader.OpenAsync(response);
        foreach (var piece in pieces)
        {
            var chunk = JsonNode.Parse((await reader.NextAsync())!)!;
            Assert.Equal((response.CompletionId(), piece), (chunk["id"]!.GetValue<string>(), chunk["choices"]![0]!["delta"]!["content"]!.GetValue<string>()));
        }

        seenByClient.SetResult(); // now the provider drops the connection
        var rest = await reader.RestAsync();
        var last = Assert.Single(rest); // no usage chunk, no [DONE]
        var error = JsonNode.Parse(last)!["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());

        var promptTokens = TokenEstimator.PromptTokens([new ChatMessage("user", "Tell me a story.")]);
        var delivered = TokenEstimator.Count(string.Concat(pieces));
        var cost = Money.Cost(promptTokens, delivered, Glm5Input, Glm5Output);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((Provenance.Partial, 200, "upstream_error", $"{upstream.Id}:upstream-glm-5"), (record.Provenance, record.Status, record.ErrorCode, record.Upstream));
        Assert.Equal((promptTokens, delivered, cost), (record.PromptTokens, record.CompletionTokens, record.CostMicros));
        Assert.True(cost > 0);
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task NonStreamingClientGets502AndPaysNothingWhenTheUpstreamBreaksMidReply()
    {
        // The abort is not synchronised here: whether the chunks got through or not, the client has
        // received nothing, so the outcome is the same.
        await using var provider = await FakeUpstream.StartAsync(Reply.StreamThenAbort(Task.CompletedTask, Chunks.Content("Once upon"), Chunks.Content(" a time")));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await response.JsonBodyAsync())["error"]!["code"]!.GetValue<string>());
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }
}
