using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Usage;

namespace Portal.Tests.Organizations;

/// <summary>
/// Isolation first (issue 17): a member of organization A reaches nothing of B — keys, balance, usage,
/// ledger — neither through the organization service nor through A's key; an organization's keys and
/// records stay out of the member's personal keys and dashboard; a member manages only their own keys.
/// </summary>
public sealed class OrganizationIsolationTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    private OrganizationService Organizations => _app.Organizations();

    [Fact]
    public async Task AMemberOfOneOrganizationCannotSeeOrUseAnothersKeysOrBalance()
    {
        var a = await _app.CreateOrganizationAsync("A", credits: 1m);
        var b = await _app.CreateOrganizationAsync("B", credits: 7m);
        var ada = await _app.AddMemberWithKeyAsync(a, OrganizationRole.Admin);
        var bob = await _app.AddMemberWithKeyAsync(b);
        var actor = OrganizationFixtures.ActorFor(ada.UserId);

        Assert.Null(await Organizations.KeysAsync(ada.UserId, b.Id));
        Assert.Null(await Organizations.BalanceAsync(ada.UserId, b.Id));
        Assert.Null(await Organizations.RoleOfAsync(ada.UserId, b.Id));
        Assert.Null(await Organizations.CreateKeyAsync(actor, b.Id, new NewApiKey("sneaky")));
        Assert.False(await Organizations.RevokeKeyAsync(actor, b.Id, bob.KeyId));
        // B's key named under A, where Ada is an admin: still not hers to revoke.
        Assert.False(await Organizations.RevokeKeyAsync(actor, a.Id, bob.KeyId));
        Assert.Null(await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == bob.KeyId).Select(k => k.RevokedAt).SingleAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.ApiKeys.CountAsync(k => k.Name == "sneaky")));
        Assert.Equal([a.Id], (await Organizations.MembershipsAsync(ada.UserId)).Select(m => m.OrganizationId));

        // A's key sees A's credits only.
        var credits = await (await _app.ApiClient(ada.Key).GetAsync("/api/v1/credits")).Content.ReadAsStringAsync();
        Assert.Contains("\"balance\":1", credits);
        Assert.DoesNotContain("7", credits);
    }

    [Fact]
    public async Task AnOrganizationKeysUsageListsTheOrganizationsRequestsOnlyAndThePersonalViewsNone()
    {
        var a = await _app.CreateOrganizationAsync("A", credits: 5m);
        var b = await _app.CreateOrganizationAsync("B", credits: 5m);
        var ada = await _app.AddMemberWithKeyAsync(a);
        var bob = await _app.AddMemberWithKeyAsync(b);
        // Ada's own key, on her own credit.
        await _app.Services.GetRequiredService<CreditsLedger>().GrantAsync(ada.UserId, Money.FromUsd(1m), "own", actorId: null);
        var (personal, personalKey) = await _app.Services.GetRequiredService<ApiKeyService>().CreateAsync(ada.UserId, new NewApiKey("mine"));
        const string Body = """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":20}""";
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(ada.Key).PostChatAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(bob.Key).PostChatAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(personalKey).PostChatAsync(Body)).StatusCode);

        var listed = JsonNode.Parse(await (await _app.ApiClient(ada.Key).GetAsync("/api/v1/usage")).Content.ReadAsStringAsync())!["data"]!.AsArray();
        Assert.Single(listed);
        var records = await _app.InStoreAsync(db => db.UsageRecords.ToListAsync());
        Assert.Equal(records.Single(r => r.UserId == a.Id).RequestId, listed[0]!["id"]!.GetValue<string>());
        // Another organization's key id is not a filter A's key may use.
        Assert.Equal(HttpStatusCode.BadRequest, (await _app.ApiClient(ada.Key).GetAsync($"/api/v1/usage?key={bob.KeyId}")).StatusCode);

        // Ada's personal views: her own key and request, none of the organization's.
        var usage = _app.Services.GetRequiredService<UsageQueries>();
        var mine = await usage.RequestsAsync(ada.UserId, new RequestFilter(), 0, 100);
        Assert.Equal([personal.Id], mine.Rows.Select(r => r.ApiKeyId));
        Assert.Equal([personal.Id], (await usage.KeysAsync(ada.UserId)).Select(k => k.Id));
        Assert.Equal([personal.Id], (await _app.Services.GetRequiredService<ApiKeyService>().ListAsync(ada.UserId, 0, 100)).Keys.Select(k => k.Id));
        Assert.False(await _app.Services.GetRequiredService<ApiKeyService>().RevokeAsync(ada.UserId, ada.KeyId));
        Assert.Equal([ada.KeyId], (await usage.KeysAsync(a.Id)).Select(k => k.Id));
    }

    [Fact]
    public async Task AMemberManagesTheirOwnOrganizationKeysAndAnAdminManagesEveryOne()
    {
        var org = await _app.CreateOrganizationAsync();
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var carol = await _app.AddMemberWithKeyAsync(org);
        var dave = await _app.AddMemberWithKeyAsync(org);

        Assert.Equal([carol.KeyId], (await Organizations.KeysAsync(carol.UserId, org.Id))!.Select(k => k.Key.Id));
        Assert.Equal(3, (await Organizations.KeysAsync(admin.UserId, org.Id))!.Count);
        Assert.Equal(3, (await Organizations.KeysAsync(org.OwnerId, org.Id))!.Count);
        Assert.False(await Organizations.RevokeKeyAsync(OrganizationFixtures.ActorFor(carol.UserId), org.Id, dave.KeyId));
        Assert.True(await Organizations.RevokeKeyAsync(OrganizationFixtures.ActorFor(carol.UserId), org.Id, carol.KeyId));
        Assert.True(await Organizations.RevokeKeyAsync(OrganizationFixtures.ActorFor(admin.UserId), org.Id, dave.KeyId));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(dave.Key).GetAsync("/api/v1/credits")).StatusCode);
        var revoked = await _app.InStoreAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.OrganizationKeyRevoke).Select(e => e.ActorId).ToListAsync());
        Assert.Equal([carol.UserId, admin.UserId], revoked);
        Assert.Equal(3, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationKeyCreate)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("bad\u0000name")]
    public async Task AnOrganizationNeedsAPlainName(string name)
    {
        var user = await _app.CreateUserAsync("ada@example.com", "correct horse battery");

        var (organization, problem) = await Organizations.CreateAsync(OrganizationFixtures.ActorFor(user.Id), name);

        Assert.Null(organization);
        Assert.NotNull(problem);
        Assert.Equal(0, await _app.InStoreAsync(db => db.Organizations.CountAsync()));
    }

    [Fact]
    public async Task AnOverlongNameIsRefused()
    {
        var user = await _app.CreateUserAsync("ada@example.com", "correct horse battery");

        var (organization, problem) = await Organizations.CreateAsync(OrganizationFixtures.ActorFor(user.Id), new string('x', OrganizationService.MaxNameLength + 1));

        Assert.Null(organization);
        Assert.Contains("at most 100", problem);
    }
}
