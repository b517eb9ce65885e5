using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.ApiKeys;

/// <summary>Bearer-key authentication of /api/v1: a missing, malformed, unknown, revoked or expired key gets 401.</summary>
public sealed class KeyAuthenticationTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task MissingOrMalformedOrUnknownKeysGet401()
    {
        var anonymous = _app.CreateClient();
        await AssertErrorAsync(await anonymous.GetAsync("/api/v1/models"), 401, "invalid_api_key");

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");
        await AssertErrorAsync(await anonymous.GetAsync("/api/v1/models"), 401, "invalid_api_key");

        var unknown = _app.ApiClient(ApiKeyService.KeyPrefix + new string('a', 40));
        await AssertErrorAsync(await unknown.GetAsync("/api/v1/credits"), 401, "invalid_api_key");
    }

    [Fact]
    public async Task RevokedKeyIsRefusedWithinOneSecond()
    {
        var account = await _app.CreateApiAccountAsync();
        var client = _app.ApiClient(account.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/key")).StatusCode);

        Assert.True(await _app.Services.GetRequiredService<ApiKeyService>().RevokeAsync(account.UserId, account.KeyId));
        _app.Time.Advance(TimeSpan.FromSeconds(1));

        await AssertErrorAsync(await client.GetAsync("/api/v1/key"), 401, "invalid_api_key");
    }

    [Fact]
    public async Task ExpiredKeyIsRefused()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("short-lived", ExpiresAt: _app.Time.GetUtcNow().UtcDateTime.AddHours(1)));
        var client = _app.ApiClient(account.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/key")).StatusCode);

        _app.Time.Advance(TimeSpan.FromHours(1));

        await AssertErrorAsync(await client.GetAsync("/api/v1/key"), 401, "invalid_api_key");
    }

    [Fact]
    public async Task AnAddressPresentingTooManyInvalidKeysIsRefusedBeforeAnyLookupWhileOthersCarryOn()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["ApiKeys:InvalidKeysPerMinutePerAddress"] = "3" });
        var account = await app.CreateApiAccountAsync();
        app.RemoteIp = IPAddress.Parse("198.51.100.9");
        for (var guess = 1; guess <= 3; guess++)
        {
            var guesser = app.ApiClient(ApiKeyService.KeyPrefix + new string((char)('a' + guess), 40));
            await AssertErrorAsync(await guesser.GetAsync("/api/v1/models"), 401, "invalid_api_key");
        }

        // Past the allowance even a valid key from that address waits: nothing is looked up for it.
        var refused = await app.ApiClient(account.Key).GetAsync("/api/v1/models");
        await AssertErrorAsync(refused, 429, "rate_limit_exceeded");
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);

        app.RemoteIp = IPAddress.Parse("198.51.100.10");
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(account.Key).GetAsync("/api/v1/models")).StatusCode);
    }
}
