using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Tests.Gateway;
using static Portal.Tests.Gateway.GatewayFixtures;

namespace Portal.Tests.ApiKeys;

/// <summary>
/// <c>ApiKeys:MaxRequestsPerMinute</c>: no key is given more, and a key stored with more (made before
/// the ceiling) is limited at it when used.
/// </summary>
public sealed class KeyRateCeilingTests : IDisposable
{
    private const int Ceiling = 5;

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["ApiKeys:MaxRequestsPerMinute"] = Ceiling.ToString(),
        ["Gateway:DefaultRequestsPerMinute"] = "3",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AKeyStoredAboveTheCeilingIsLimitedAtItAndSaysSo()
    {
        var account = await _app.CreateApiAccountAsync(key: new NewApiKey("old", RateLimitPerMinute: Ceiling));
        // As a key created before the ceiling was lowered: its own number stays in the store.
        await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RateLimitPerMinute, 1_000_000)));
        var client = _app.ApiClient(account.Key);

        var reply = await client.GetAsync("/api/v1/key");
        var key = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!["data"]!;
        Assert.Equal(Ceiling, key["rate_limit"]!["requests"]!.GetValue<int>());
        Assert.Equal(Ceiling.ToString(), reply.Headers.GetValues("x-ratelimit-limit-requests").Single());

        for (var i = 1; i < Ceiling; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/models")).StatusCode);
        }

        await AssertErrorAsync(await client.GetAsync("/api/v1/models"), 429, "rate_limit_exceeded");
    }

    [Fact]
    public async Task AKeyWithoutItsOwnLimitGetsTheDefault()
    {
        var account = await _app.CreateApiAccountAsync();

        var key = JsonNode.Parse(await _app.ApiClient(account.Key).GetStringAsync("/api/v1/key"))!["data"]!;

        Assert.Equal(3, key["rate_limit"]!["requests"]!.GetValue<int>());
    }

    [Fact]
    public async Task NoKeyIsCreatedAboveTheCeiling()
    {
        var user = await _app.CreateUserAsync("ada@example.test", "correct horse battery");

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            _app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, new NewApiKey("fast", RateLimitPerMinute: Ceiling + 1)));
        var cli = await _app.RunCliAsync("create-key", "--email", "ada@example.test", "--name", "fast", "--rate-limit", (Ceiling + 1).ToString());

        Assert.Contains("ApiKeys:MaxRequestsPerMinute", refused.Message);
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("--rate-limit must be a whole number from 1 to 5", cli.Stderr);
        Assert.Empty(await _app.InStoreAsync(db => db.ApiKeys.ToListAsync()));
    }

    [Fact]
    public void ADefaultAboveTheCeilingStopsStartUpNamingBothSettings()
    {
        using var app = new PortalApplication(new Dictionary<string, string?>
        {
            ["ApiKeys:MaxRequestsPerMinute"] = "100",
            ["Gateway:DefaultRequestsPerMinute"] = "200",
        });

        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("ApiKeys:MaxRequestsPerMinute must be at least Gateway:DefaultRequestsPerMinute", error.Message);
    }
}
