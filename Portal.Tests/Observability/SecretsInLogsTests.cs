using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.ApiKeys;
using Portal.Gateway;
using Portal.Observability;
using Portal.Tests.Gateway;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Observability;

/// <summary>
/// Every log entry — at every level, with its structured values, scopes and exceptions — while the
/// secrets pass through Portal: none may show up, yet the logs must still say what happened.
/// </summary>
public sealed class SecretsInLogsTests : IDisposable
{
    private const string Password = "Canary-Passphrase-7q2w9e";
    private const string Prompt = "canary-prompt-zx81 tell me a secret";
    private const string UpstreamKey = "sk-upstream-canary-4f9d2b7c1e";

    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" })
    {
        CaptureLogLevel = LogLevel.Trace,
    };

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task NoPasswordApiKeyUpstreamKeyOrPromptReachesTheLogs()
    {
        const string email = "canary-user@example.test";
        using var browser = _app.CreateBrowser();
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignUpAsync(email, Password)).StatusCode);
        await browser.SignOutAsync();
        await browser.SignInAsync(email, "Wrong-" + Password);
        await _app.SignedInBrowserAsync(email, Password);
        var user = (await _app.FindUserAsync(email))!;
        await _app.Services.GetRequiredService<Portal.Billing.CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(1m), "test", null);
        var (_, key) = await _app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("laptop"));
        var client = _app.ApiClient(key);

        // A simulated chat, a chat through an upstream that needs its key, one whose upstream fails
        // and echoes the key back, and a request with a wrong key.
        var simulated = await client.PostChatAsync($$"""{"model":"glm-5","messages":[{"role":"user","content":"{{Prompt}}"}],"max_tokens":20}""");
        Assert.Equal(HttpStatusCode.OK, simulated.StatusCode);
        await using var good = await FakeUpstream.StartAsync(Reply.Stream(Chunks.Content("Hi!", finishReason: "stop"), Chunks.Usage(prompt: 9, completion: 2)));
        await _app.AddUpstreamAsync("kimi-k2", good.BaseUrl, "kimi", UpstreamKey);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync($$"""{"model":"kimi-k2","messages":[{"role":"user","content":"{{Prompt}}"}],"max_tokens":20}""")).StatusCode);
        await using var failing = await FakeUpstream.StartAsync(Reply.Error(401, $"Incorrect API key provided: {UpstreamKey}. Prompt was: {Prompt}"));
        await _app.AddUpstreamAsync("deepseek-r1", failing.BaseUrl, "r1", UpstreamKey);
        var failed = await client.PostChatAsync($$"""{"model":"deepseek-r1","messages":[{"role":"user","content":"{{Prompt}}"}],"max_tokens":20}""");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(key + "x").PostChatAsync("{}")).StatusCode);

        var logs = _app.Logs.Entries;
        Assert.True(logs.Count > 100, $"only {logs.Count} log entries: is capturing at Trace working?");
        foreach (var secret in new[] { Password, key, key[ApiKeyService.KeyPrefix.Length..], UpstreamKey, "canary-prompt-zx81" })
        {
            var leaks = logs.Where(l => l.AllText().Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"'{secret}' appears in the logs:\n{string.Join("\n---\n", leaks.Select(l => l.AllText()))}");
        }

        // What the logs do say: which request's upstream failed, tagged with the id the client got.
        var requestId = failed.Headers.GetValues("x-request-id").Single();
        var warning = Assert.Single(logs, l => l.Category == typeof(HttpUpstream).FullName && l.Level == LogLevel.Warning && l.Message.Contains("attempt 1 failed", StringComparison.Ordinal));
        Assert.Equal(requestId, warning.ScopeValue(RequestLogScope.Key));
        Assert.Contains(logs, l => l.Category == typeof(ChatGateway).FullName && l.Message.Contains(requestId, StringComparison.Ordinal));
    }
}
