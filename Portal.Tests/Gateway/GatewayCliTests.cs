using Microsoft.EntityFrameworkCore;

namespace Portal.Tests.Gateway;

public sealed class GatewayCliTests : IDisposable
{
    private const string Password = "correct horse battery";
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task CreateKeyPrintsAWorkingKeyOnceAndStoresOnlyItsHash()
    {
        await _app.CreateUserAsync("dev@example.test", Password);

        var result = await _app.RunCliAsync("create-key", "--email", "dev@example.test", "--name", "ci", "--rate-limit", "120", "--spend-cap", "2.50", "--models", "glm-5,kimi-k2");

        Assert.Equal(0, result.ExitCode);
        var key = result.Stdout.Trim();
        Assert.Matches("^sk-portal-[0-9A-Za-z]{40}$", key);
        var stored = await _app.InStoreAsync(db => db.ApiKeys.SingleAsync());
        Assert.Equal((120, Money.FromUsd(2.50m), "glm-5,kimi-k2"), (stored.RateLimitPerMinute, stored.SpendCapMicros, stored.AllowedModels));
        Assert.Equal(Portal.ApiKeys.ApiKeyService.HashOf(key), stored.Hash);
        Assert.DoesNotContain(key[14..^4], stored.Prefix + stored.Last4 + stored.Name);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(key).GetAsync("/api/v1/key")).StatusCode);

        var listed = await _app.RunCliAsync("list-keys", "--email", "dev@example.test");
        Assert.Contains(stored.Id, listed.Stdout);
        Assert.DoesNotContain(key, listed.Stdout);
    }

    [Fact]
    public async Task RevokeKeyStopsTheKey()
    {
        await _app.CreateUserAsync("dev@example.test", Password);
        var key = (await _app.RunCliAsync("create-key", "--email", "dev@example.test", "--name", "temp")).Stdout.Trim();
        var id = await _app.InStoreAsync(db => db.ApiKeys.Select(k => k.Id).SingleAsync());

        Assert.Equal(0, (await _app.RunCliAsync("revoke-key", "--id", id)).ExitCode);
        _app.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(key).GetAsync("/api/v1/key")).StatusCode);
        Assert.Equal(1, (await _app.RunCliAsync("revoke-key", "--id", id)).ExitCode);
    }

    [Theory]
    [InlineData("grant-credits", "--email", "dev@example.test", "--amount", "ten", "--reason", "r")]
    [InlineData("grant-credits", "--email", "dev@example.test", "--amount", "0", "--reason", "r")]
    [InlineData("grant-credits", "--email", "dev@example.test", "--amount", "1.0000001", "--reason", "r")]
    [InlineData("grant-credits", "--email", "dev@example.test", "--amount", "5")]
    [InlineData("create-key", "--email", "dev@example.test")]
    [InlineData("create-key", "--email", "dev@example.test", "--name", "k", "--rate-limit", "0")]
    [InlineData("create-key", "--email", "dev@example.test", "--name", "k", "--spend-cap", "lots")]
    [InlineData("revoke-key")]
    [InlineData("api")]
    [InlineData("api", "--on", "--off")]
    public async Task BadUsageExitsWith2AndChangesNothing(params string[] args)
    {
        await _app.CreateUserAsync("dev@example.test", Password);

        var result = await _app.RunCliAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error:", result.Stderr);
        Assert.Equal(0, await _app.InStoreAsync(db => db.Ledger.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.ApiKeys.CountAsync()));
    }

    [Fact]
    public async Task UnknownAccountsAreRefusedWithExit1()
    {
        Assert.Equal(1, (await _app.RunCliAsync("grant-credits", "--email", "nobody@example.test", "--amount", "1", "--reason", "r")).ExitCode);
        Assert.Equal(1, (await _app.RunCliAsync("create-key", "--email", "nobody@example.test", "--name", "k")).ExitCode);
    }

    [Fact]
    public async Task DeductingMoreThanTheBalanceIsRefused()
    {
        await _app.CreateUserAsync("dev@example.test", Password);
        Assert.Equal(0, (await _app.RunCliAsync("grant-credits", "--email", "dev@example.test", "--amount", "2", "--reason", "welcome")).ExitCode);

        var result = await _app.RunCliAsync("grant-credits", "--email", "dev@example.test", "--amount", "-3", "--reason", "oops");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nothing was deducted", result.Stderr);
        Assert.Equal(1, await _app.InStoreAsync(db => db.Ledger.CountAsync()));
    }

    [Fact]
    public async Task UpstreamsAreAddedWithAnEncryptedKeyListedWithoutItAndRemoved()
    {
        const string secret = "sk-provider-secret-0123456789abcdef";
        Environment.SetEnvironmentVariable("PORTAL_TEST_PROVIDER_KEY", secret);

        var added = await _app.RunCliAsync("add-upstream", "--model", "glm-5", "--url", "https://api.example.test/v1/", "--upstream-model", "glm-5-0425", "--key-env", "PORTAL_TEST_PROVIDER_KEY", "--priority", "2", "--timeout", "30");

        Assert.Equal(0, added.ExitCode);
        var stored = await _app.InStoreAsync(db => db.ModelUpstreams.SingleAsync());
        Assert.Equal(("glm-5", "https://api.example.test/v1", "glm-5-0425", 2, 30), (stored.ModelId, stored.BaseUrl, stored.UpstreamModel, stored.Priority, stored.TimeoutSeconds));
        Assert.NotNull(stored.ProtectedApiKey);
        Assert.DoesNotContain(secret, stored.ProtectedApiKey);
        var listed = await _app.RunCliAsync("list-upstreams");
        Assert.Contains("glm-5-0425", listed.Stdout);
        Assert.DoesNotContain(secret, listed.Stdout + added.Stdout + added.Stderr);

        Assert.Equal(0, (await _app.RunCliAsync("remove-upstream", "--id", stored.Id.ToString())).ExitCode);
        Assert.Equal(0, await _app.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
        Assert.Equal(1, (await _app.RunCliAsync("remove-upstream", "--id", stored.Id.ToString())).ExitCode);
    }

    [Theory]
    [InlineData(2, "add-upstream", "--model", "glm-5", "--url", "ftp://x", "--upstream-model", "m")]
    [InlineData(2, "add-upstream", "--model", "glm-5", "--url", "not a url", "--upstream-model", "m")]
    [InlineData(2, "add-upstream", "--model", "glm-5", "--url", "https://x/v1", "--upstream-model", "m", "--key-env", "PORTAL_TEST_UNSET_VARIABLE")]
    [InlineData(1, "add-upstream", "--model", "no-such-model", "--url", "https://x/v1", "--upstream-model", "m")]
    public async Task BadUpstreamsAreRefused(int exitCode, params string[] args)
    {
        Assert.Equal(exitCode, (await _app.RunCliAsync(args)).ExitCode);
        Assert.Equal(0, await _app.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
    }
}
