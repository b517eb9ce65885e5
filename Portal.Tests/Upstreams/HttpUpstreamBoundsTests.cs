using Portal.Billing;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>
/// Portal in front of providers whose replies are huge or unreadable: only a bounded part of any reply is
/// read, and a call the provider answered (and billed) is not made again.
/// </summary>
public sealed class HttpUpstreamBoundsTests : IDisposable
{
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100}""";
    private const string HelloStream = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}""";
    private const long HugeBody = 200L * 1024 * 1024;
    // What one call can take of a huge body: the limit, the loopback socket buffers (a few MB) and
    // what the HTTP handler drains when the response is disposed (1 MB). Far under the body.
    private const long PerCall = 16L * 1024 * 1024;
    private static readonly long Glm5Input = Money.FromUsd(1.50m);
    private static readonly long Glm5Output = Money.FromUsd(5.00m);

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Gateway:MaxUpstreamReplyBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:MaxUpstreamEventBytes"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public void Dispose() => _app.Dispose();

    private static UpstreamReply Answer() => Reply.Stream(Chunks.Content("Hi!", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 2));

    [Fact]
    public async Task HugeErrorBodyIsReadOnlyAsFarAsItsMessageWhichIsStillQuoted()
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Huge(500, "application/json",
            """{"error":{"message":"overloaded, try later","type":"server_error","trace":" """, HugeBody, "\"}}"));
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("The upstream answered HTTP 500: overloaded, try later.", (await response.JsonBodyAsync())["error"]!["message"]!.GetValue<string>());
        Assert.Equal(2, provider.Requests.Count); // a 500 is still tried again
        Assert.True(provider.BytesSent < 2 * PerCall, $"the provider got {provider.BytesSent:N0} bytes out");
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NonStreamedReplyLargerThanTheLimitIs502AfterOneCallAndCostsNothing(bool announceLength)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Huge(200, "application/json",
            """{"id":"x","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":" """,
            HugeBody, "\"},\"finish_reason\":\"stop\"}]}", announceLength));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        var huge = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await response.JsonBodyAsync())["error"]!;
        Assert.Equal(("upstream_error", "The upstream's reply is larger than 1 MB."), (error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Single(provider.Requests); // it answered, and billed: another call could bill again
        Assert.Empty(backup.Requests);
        Assert.True(provider.BytesSent < PerCall, $"the provider got {provider.BytesSent:N0} bytes out");
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((502, "upstream_error", 0L, $"{huge.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.Upstream));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task StreamEventLongerThanTheLimitEndsTheStreamWithAnErrorAndChargesWhatWasDelivered()
    {
        string[] pieces = ["Once upon", " a time"];
        var events = string.Concat(pieces.Select(p => $"data: {Chunks.Content(p).ToJsonString()}\n\n"));
        await using var provider = await FakeUpstream.StartAsync(Reply.Huge(200, "text/event-stream",
            events + """data: {"id":"x","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"content":" """,
            HugeBody, "\"}}]}\n\ndata: [DONE]\n\n"));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Tell me a story."}],"stream":true,"stream_options":{"include_usage":true}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = await SseReader.OpenAsync(response);
        var received = await reader.RestAsync();
        Assert.Equal(3, received.Count); // the two chunks, then the error: no usage chunk, no [DONE]
        Assert.Equal(pieces, received.Take(2).Select(e => JsonNode.Parse(e)!["choices"]![0]!["delta"]!["content"]!.GetValue<string>()));
        var error = JsonNode.Parse(received[2])!["error"]!;
        Assert.Equal(("upstream_error", "The upstream sent an event larger than 64 KB."), (error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.True(provider.BytesSent < PerCall, $"the provider got {provider.BytesSent:N0} bytes out");

        var promptTokens = TokenEstimator.PromptTokens([new ChatMessage("user", "Tell me a story.")]);
        var delivered = TokenEstimator.Count(string.Concat(pieces));
        var cost = Money.Cost(promptTokens, delivered, Glm5Input, Glm5Output);
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((Provenance.Partial, 200, "upstream_error", $"{upstream.Id}:upstream-glm-5"), (record.Provenance, record.Status, record.ErrorCode, record.Upstream));
        Assert.Equal((promptTokens, delivered, cost), (record.PromptTokens, record.CompletionTokens, record.CostMicros));
        Assert.Equal(Money.FromUsd(1m) - cost, await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Theory]
    [InlineData("Service temporarily overloaded")]
    [InlineData("""{"error":{"message":"quota exceeded","code":429}}""")] // some providers answer errors with a 200
    [InlineData("""{"id":"x","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"cut of""")]
    public async Task NonStreamedReplyThatIsNotAChatCompletionIs502AfterOneCallAndCostsNothing(string body)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Raw(200, "application/json", body));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        var unreadable = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await response.JsonBodyAsync())["error"]!["code"]!.GetValue<string>());
        Assert.Single(provider.Requests); // it answered with 200, and may have billed: no second call
        Assert.Empty(backup.Requests);
        // Nothing usable reached the client, so it pays nothing (ADR 3: a request pays for what it delivered).
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((502, "upstream_error", 0L, $"{unreadable.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.Upstream));
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    [Theory]
    [InlineData("data: {not json\n\ndata: [DONE]\n\n")]
    [InlineData("data: {\"choices\":[]}\n\ndata: [DONE]\n\n")] // JSON, but no chunk: no id, created or model
    public async Task StreamWhoseFirstEventIsNotAChunkIs502AfterOneCallAndCostsNothing(string body)
    {
        await using var provider = await FakeUpstream.StartAsync(Reply.Raw(200, "text/event-stream", body));
        await using var backup = await FakeUpstream.StartAsync(Answer());
        await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5", priority: 0);
        await _app.AddUpstreamAsync("glm-5", backup.BaseUrl, "backup-glm", priority: 1);
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        using var response = await _app.ApiClient(account.Key).PostChatStreamingAsync(HelloStream);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("The upstream sent a malformed event.", (await response.JsonBodyAsync())["error"]!["message"]!.GetValue<string>());
        Assert.Single(provider.Requests); // the provider has begun generating, and billing: no second call
        Assert.Empty(backup.Requests);
        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }
}
