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
}
