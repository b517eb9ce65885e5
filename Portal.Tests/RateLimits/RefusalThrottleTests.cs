using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Gateway;
using Portal.Tests.Gateway;
using Portal.Tests.Observability;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.RateLimits;

/// <summary>
/// An account refused more than <c>Gateway:RefusalsPerMinute</c> times in a minute gets 429 for the
/// rest of it, before its key's bucket or the store is looked at; the refusals are still counted.
/// </summary>
public sealed class RefusalThrottleTests : IDisposable
{
    private const string Completion = """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":50}""";

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Gateway:RecordedRefusalsPerMinute"] = "2",
        ["Gateway:RefusalsPerMinute"] = "5",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AnAccountRefusedTooOftenIsTurnedAwayUntilTheMinuteIsOver()
    {
        var account = await _app.CreateApiAccountAsync(credits: 0m);
        var client = _app.ApiClient(account.Key);
        for (var i = 0; i < 5; i++)
        {
            await AssertErrorAsync(await client.PostChatAsync(Completion), 402, "insufficient_quota");
        }

        _app.Time.Advance(TimeSpan.FromSeconds(20));
        var throttled = await client.PostChatAsync(Completion);
        var credits = await client.GetAsync("/api/v1/credits");

        var error = await AssertErrorAsync(throttled, 429, "too_many_refused_requests");
        Assert.Contains("More than 5 of this account's requests were refused in the last minute", error["message"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(40), throttled.Headers.RetryAfter?.Delta);
        // Turned away before the key's rate limit (a store statement on PostgreSQL) was consulted.
        Assert.False(throttled.Headers.Contains("x-ratelimit-limit-requests"));
        await AssertErrorAsync(credits, 429, "too_many_refused_requests");

        // Other accounts are served as before.
        var other = await _app.CreateApiAccountAsync(credits: 1m);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(other.Key).PostChatAsync(Completion)).StatusCode);

        // The next minute the account is served again: the balance is looked at, and refuses.
        _app.Time.Advance(TimeSpan.FromSeconds(40));
        await AssertErrorAsync(await client.PostChatAsync(Completion), 402, "insufficient_quota");

        await _app.Services.GetRequiredService<RefusalLog>().FlushAsync();
        var records = await _app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        // Two recorded one by one, three 402s and the throttled completion counted together, one more the next minute.
        Assert.Equal(7, records.Sum(r => r.Requests));
        Assert.Equal(5, records.Count);
        var counted = Assert.Single(records, r => r.Status == 429);
        Assert.Equal(("too_many_refused_requests", "unknown", 1), (counted.ErrorCode, counted.ModelId, counted.Requests));
        Assert.Equal(3, Assert.Single(records, r => r.Requests > 1).Requests);
        _app.RemoteIp = IPAddress.Loopback; // /metrics answers loopback
        var metrics = MetricsTests.Exposition.Parse(await _app.CreateClient().GetStringAsync("/metrics"));
        Assert.Equal(1, metrics.Value("portal_requests_total", ("model", "unknown"), ("status", "429")));
        Assert.Equal(6, metrics.Value("portal_requests_total", ("model", "glm-5"), ("status", "402")));
    }

    [Fact]
    public void AThrottleBelowTheRecordedAllowanceStopsStartUpNamingBothSettings()
    {
        using var app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Gateway:RecordedRefusalsPerMinute"] = "100",
            ["Gateway:RefusalsPerMinute"] = "50",
        });

        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("Gateway:RefusalsPerMinute must be at least Gateway:RecordedRefusalsPerMinute", error.Message);
    }
}
