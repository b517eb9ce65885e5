using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.RateLimits;

/// <summary>Each key's request limit on /api/v1: the limit headers, 429 with Retry-After, and the refused completion's usage record.</summary>
public sealed class KeyRateLimitTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task RateLimitGives429WithRetryAfterOnceTheKeysLimitIsUsed()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("slow", RateLimitPerMinute: 3));
        var client = _app.ApiClient(account.Key);

        for (var i = 3; i > 0; i--)
        {
            var ok = await client.GetAsync("/api/v1/models");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.Equal((i - 1).ToString(), ok.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        }

        var refused = await client.GetAsync("/api/v1/models");
        await AssertErrorAsync(refused, 429, "rate_limit_exceeded");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));

        _app.Time.Advance(TimeSpan.FromSeconds(20)); // one request's worth at 3 per minute
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);
    }

    [Fact]
    public async Task TheSixtyFirstRequestInAMinuteGets429AndTheWindowRecovers()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);

        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/key")).StatusCode);
        }

        var refused = await client.GetAsync("/api/v1/key");
        await AssertErrorAsync(refused, 429, "rate_limit_exceeded");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("0", refused.Headers.GetValues("x-ratelimit-remaining-requests").Single());

        _app.Time.Advance(TimeSpan.FromMinutes(1));
        var recovered = await client.GetAsync("/api/v1/key");
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal("59", recovered.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    [Fact]
    public async Task RateLimitedCompletionsLeaveAUsageRecord()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("one a minute", RateLimitPerMinute: 1));
        var client = _app.ApiClient(account.Key);
        const string body = """{"model":"glm-5","messages":[{"role":"user","content":"x"}],"max_tokens":3}""";

        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(body)).StatusCode);
        var refused = await client.PostChatAsync(body);

        await AssertErrorAsync(refused, 429, "rate_limit_exceeded");
        var requestId = refused.Headers.GetValues("x-request-id").Single();
        var record = await _app.InStoreAsync(db => db.UsageRecords.SingleAsync(r => r.RequestId == requestId));
        Assert.Equal((429, "rate_limit_exceeded", 0L, account.KeyId), (record.Status, record.ErrorCode, record.CostMicros, record.ApiKeyId));
    }
}
