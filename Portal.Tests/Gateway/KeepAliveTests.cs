using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Gateway;

public sealed class KeepAliveTests : IDisposable
{
    // The simulated model "thinks" for 2.5 s before its first token; keep-alives go out every second.
    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "2500",
        ["Gateway:KeepAliveSeconds"] = "1",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task SilentUpstreamGetsKeepAliveCommentsBeforeTheFirstChunk()
    {
        var account = await _app.CreateApiAccountAsync();

        var response = await _app.ApiClient(account.Key).PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true}""");
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(": keep-alive", events[0]);
        Assert.Contains(events, e => e.StartsWith("data: {", StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
    }

    [Fact]
    public async Task UpstreamThatFailsAfterKeepAlivesButBeforeItsFirstChunkChargesNothing()
    {
        // Silent past the first keep-alive, then a refusal that is not retried: the client has had
        // the stream's headers and a comment, but none of the reply (ADR 3: nothing is charged).
        await using var provider = await FakeUpstream.StartAsync(Reply.After(TimeSpan.FromSeconds(1.5), Reply.Status(400, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = "Too many tokens.", ["type"] = "invalid_request_error", ["code"] = "context_length_exceeded" },
        })));
        var upstream = await _app.AddUpstreamAsync("glm-5", provider.BaseUrl, "upstream-glm-5");
        var account = await _app.CreateApiAccountAsync(credits: 1m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(
            """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":100,"stream":true}""");
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        // The headers went out with the keep-alive, so the provider's refusal comes as the stream's last event (ADR 21).
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(": keep-alive", events[0]);
        Assert.StartsWith("data: ", events[^1]);
        Assert.Equal("context_length_exceeded", JsonNode.Parse(events[^1]["data: ".Length..])!["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e == "data: [DONE]");

        Assert.Equal(Money.FromUsd(1m), await _app.BalanceAsync(account.UserId));
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == account.UserId && e.Kind == LedgerKind.Charge)));
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.UserId == account.UserId));
        Assert.Equal((400, "context_length_exceeded", 0L, 0, $"{upstream.Id}:upstream-glm-5"), (record.Status, record.ErrorCode, record.CostMicros, record.PromptTokens, record.Upstream));
        await _app.AssertLedgerConsistentAsync();
    }
}
