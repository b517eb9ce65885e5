using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

/// <summary>The CLI's admin verbs leave audit entries too, with "cli" as the actor.</summary>
public sealed class AdminCliAuditTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private Task<List<AuditEntry>> EntriesAsync() => _app.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).ToListAsync());

    [Fact]
    public async Task EveryAdminVerbAppendsOneEntryByTheCliAndTheChainVerifies()
    {
        await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);
        const string secret = "sk-cli-provider-key-0123456789";
        Environment.SetEnvironmentVariable("PORTAL_TEST_AUDIT_KEY", secret);

        Assert.Equal(0, (await _app.RunCliAsync("grant-credits", "--email", "ada@example.test", "--amount", "5", "--reason", "welcome")).ExitCode);
        Assert.Equal(0, (await _app.RunCliAsync("grant-credits", "--email", "ada@example.test", "--amount", "-1.5", "--reason", "correction")).ExitCode);
        Assert.Equal(0, (await _app.RunCliAsync("api", "--off")).ExitCode);
        Assert.Equal(0, (await _app.RunCliAsync("add-upstream", "--model", "glm-5", "--url", "https://api.provider.test/v1", "--upstream-model", "glm-5", "--key-env", "PORTAL_TEST_AUDIT_KEY")).ExitCode);
        var upstreamId = await _app.InStoreAsync(db => db.ModelUpstreams.Select(u => u.Id).SingleAsync());
        Assert.Equal(0, (await _app.RunCliAsync("remove-upstream", "--id", upstreamId.ToString())).ExitCode);
        Assert.Equal(0, (await _app.RunCliAsync("set-role", "--email", "ada@example.test", "--role", "Admin")).ExitCode);

        var entries = await EntriesAsync();
        Assert.Equal(
            [AuditActions.CreditsGrant, AuditActions.CreditsDeduct, AuditActions.ApiSwitch, AuditActions.UpstreamCreate, AuditActions.UpstreamDelete, AuditActions.RoleSet],
            entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal((null, "cli"), (e.ActorId, e.Actor)));
        Assert.Equal(["user:ada@example.test", "user:ada@example.test", "api", $"upstream:{upstreamId}", $"upstream:{upstreamId}", "user:ada@example.test"], entries.Select(e => e.Target));
        Assert.Contains("\"amountUsd\":\"1.5\"", entries[1].Details);
        Assert.Equal("""{"from":"on","to":"off"}""", entries[2].Details);
        Assert.Contains("\"role\":\"Admin\"", entries[5].Details);
        Assert.All(entries, e => Assert.DoesNotContain(secret, e.Details));
        Assert.True((await _app.Service<AuditLog>().VerifyAsync()).Ok);
    }

    [Fact]
    public async Task RefusedVerbsLeaveNoEntry()
    {
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);
        await _app.Service<CreditsLedger>().GrantAsync(user.Id, Money.FromUsd(1m), "seed", null);

        Assert.Equal(1, (await _app.RunCliAsync("grant-credits", "--email", "ada@example.test", "--amount", "-2", "--reason", "too much")).ExitCode);
        Assert.Equal(0, (await _app.RunCliAsync("set-role", "--email", "ada@example.test", "--role", "User")).ExitCode); // already a user: no change
        Assert.Equal(1, (await _app.RunCliAsync("remove-upstream", "--id", "42")).ExitCode);
        Assert.Equal(1, (await _app.RunCliAsync("add-upstream", "--model", "nope", "--url", "https://x.test/v1", "--upstream-model", "m")).ExitCode);

        Assert.Empty(await EntriesAsync());
    }
}
