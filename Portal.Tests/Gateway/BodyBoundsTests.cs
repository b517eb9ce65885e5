using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

/// <summary>
/// A request body costs bounded memory (ADR 15): a large one is read only for an account with credit
/// and while the budget of large bodies has room, and no body becomes a tree of more values than the cap.
/// </summary>
public sealed class BodyBoundsTests : IDisposable
{
    private readonly PortalApplication _app = new(Settings(tokensPerSecond: 0));

    public void Dispose() => _app.Dispose();

    /// <summary>The smallest budget there may be: one body of the largest size.</summary>
    private static Dictionary<string, string?> Settings(int tokensPerSecond) => new()
    {
        ["Simulation:TokensPerSecond"] = tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Gateway:MaxLargeBodyBytesInFlight"] = ChatBodyReader.MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ALargeBodyFromAnEmptyAccountIsRefusedBeforeItIsRead(bool chunked)
    {
        var account = await _app.CreateApiAccountAsync(credits: 0m);
        var body = Encoding.UTF8.GetBytes(ChatWithText(new string('a', 1024 * 1024)));
        HttpContent content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await _app.ApiClient(account.Key).PostAsync("/api/v1/chat/completions", content);

        var error = await GatewayFixtures.AssertErrorAsync(response, 402, "insufficient_quota");
        Assert.Contains("not read until the account has credits", error["message"]!.GetValue<string>());
        Assert.Equal(0, _app.Services.GetRequiredService<BodyBudget>().InUse);
    }

    [Fact]
    public async Task ABodyWithMoreValuesThanTheCapIsRefusedWithoutBuildingItsTree()
    {
        var account = await _app.CreateApiAccountAsync(credits: 10m);
        // 150,000 zeros in 300 KB: small as bytes, but each would be an object in a parsed tree.
        var pad = string.Join(',', Enumerable.Repeat("0", 150_000));
        var json = $$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"pad":[{{pad}}]}""";

        using var response = await _app.ApiClient(account.Key).PostChatAsync(json);

        var error = await GatewayFixtures.AssertErrorAsync(response, 400, "invalid_request_error");
        Assert.Contains("more than 100,000 JSON values", error["message"]!.GetValue<string>());
        Assert.Equal(0, _app.Services.GetRequiredService<BodyBudget>().InUse);
    }

    [Fact]
    public async Task ABodyAtTheValueCapIsServed()
    {
        var account = await _app.CreateApiAccountAsync(credits: 10m);
        // The body itself, its message object and their values leave room for this many numbers.
        var pad = string.Join(',', Enumerable.Repeat("0", 99_990));
        var json = $$"""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":5,"metadata":{"pad":[{{pad}}]} }""";

        using var response = await _app.ApiClient(account.Key).PostChatAsync(json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task WhileTheBudgetIsFullALargeBodyWaitsWith503AndASmallOneIsServed()
    {
        // Four tokens a second: the first stream runs for a second or two while the others arrive.
        using var app = new PortalApplication(Settings(tokensPerSecond: 4));
        var account = await app.CreateApiAccountAsync(credits: 100m);
        var budget = app.Services.GetRequiredService<BodyBudget>();
        var fiveMegabytes = ChatWithText(new string('a', 5 * 1024 * 1024), stream: true);

        // A streamed reply read slowly holds its body's share of the budget until it ends.
        using var first = await app.ApiClient(account.Key).SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions") { Content = new StringContent(fiveMegabytes, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(budget.InUse >= 5 * 1024 * 1024, $"the running request holds {budget.InUse} bytes of the budget");
        app.RemoteIp = IPAddress.Loopback; // /metrics answers loopback only
        var metrics = Observability.MetricsTests.Exposition.Parse(await app.CreateClient().GetStringAsync("/metrics"));
        Assert.True(metrics.Value("portal_request_bodies_large_bytes") >= 5 * 1024 * 1024);

        using var second = await app.ApiClient(account.Key).PostChatAsync(fiveMegabytes);
        var busy = await GatewayFixtures.AssertErrorAsync(second, 503, "server_busy");
        Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
        Assert.Contains("bodies up to 64 KB are always read", busy["message"]!.GetValue<string>());

        using var small = await app.ApiClient(account.Key).PostChatAsync(ChatWithText("Hello"));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);

        Assert.EndsWith("data: [DONE]", (await first.Content.ReadAsStringAsync()).TrimEnd());
        await WaitUntilAsync(() => budget.InUse == 0);
        using var third = await app.ApiClient(account.Key).PostChatAsync(fiveMegabytes);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        await WaitUntilAsync(() => budget.InUse == 0);
        await app.AssertLedgerConsistentAsync();
    }

    private static string ChatWithText(string text, bool stream = false) =>
        $$"""{"model":"glm-5","messages":[{"role":"user","content":"{{text}}"}],"max_tokens":5,"stream":{{(stream ? "true" : "false")}}}""";

    /// <summary>The lease is given back as the handler returns, just after the client has its last byte.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition());
    }

    /// <summary>A body of unknown length, sent chunked.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
