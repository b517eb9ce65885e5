using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Email;
using Portal.Organizations;
using Portal.Tests.Email;
using Portal.Tests.Gateway;

namespace Portal.Tests.Organizations;

/// <summary>
/// An organization's members (ADR 34): the invitation by email through the outbox, accepted once and
/// only by its addressee; the role matrix — who may invite, change roles and remove whom; leaving and
/// removal revoke the member's organization keys; the last owner stays.
/// </summary>
public sealed class OrganizationMemberTests : IDisposable
{
    private const string Password = "correct horse battery";
    private const string Site = "http://localhost";

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private OrganizationMembers Members => _app.Services.GetRequiredService<OrganizationMembers>();

    private static AuditActor Actor(string userId) => OrganizationFixtures.ActorFor(userId);

    [Fact]
    public async Task AnInvitationIsMailedThroughTheOutboxAndAcceptedOnceByItsAddressee()
    {
        var org = await _app.CreateOrganizationAsync("Acme");
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        var eve = await _app.CreateUserAsync("eve@example.com", Password);

        var invited = await Members.InviteAsync(Actor(org.OwnerId), org.Id, "ada@example.com", OrganizationRole.Admin, Site);
        Assert.True(invited.Done, invited.Message);
        await _app.SendMailAsync();

        var file = Assert.Single(Directory.GetFiles(Path.Combine(_app.DataFolder, EmlFolderTransport.FolderName), "*.eml"));
        var message = await MimeMessage.LoadAsync(file);
        Assert.Equal("ada@example.com", message.To.Mailboxes.Single().Address);
        Assert.Equal("You are invited to Acme on Portal", message.Subject);
        var link = SmtpTestServer.LinkIn(message);
        Assert.Equal(OrganizationMembers.AcceptPath, link.AbsolutePath);
        var token = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)["token"].ToString();
        // Only the hash is kept.
        Assert.DoesNotContain(await _app.InStoreAsync(db => db.OrganizationInvitations.Select(i => i.TokenHash).ToListAsync()), h => h == token);

        Assert.Equal(InvitationOutcome.OtherAddress, (await Members.AcceptAsync(Actor(eve.Id), token)).Outcome);
        Assert.Equal(InvitationOutcome.NotValid, (await Members.AcceptAsync(Actor(ada.Id), token + "x")).Outcome);
        var accepted = await Members.AcceptAsync(Actor(ada.Id), token);
        Assert.Equal((InvitationOutcome.Joined, org.Id), accepted);
        Assert.Equal(OrganizationRole.Admin, await _app.Organizations().RoleOfAsync(ada.Id, org.Id));
        Assert.Null(await _app.Organizations().RoleOfAsync(eve.Id, org.Id));
        Assert.Equal(InvitationOutcome.AlreadyUsed, (await Members.AcceptAsync(Actor(ada.Id), token)).Outcome);
        Assert.Equal(1, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationInvite)));
        Assert.Equal(1, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationJoin && e.ActorId == ada.Id)));
    }

    [Fact]
    public async Task AnExpiredInvitationIsRefused()
    {
        var org = await _app.CreateOrganizationAsync();
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        await Members.InviteAsync(Actor(org.OwnerId), org.Id, "ada@example.com", OrganizationRole.Member, Site);
        await _app.SendMailAsync();
        var message = await MimeMessage.LoadAsync(Directory.GetFiles(Path.Combine(_app.DataFolder, EmlFolderTransport.FolderName), "*.eml").Single());
        var token = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(SmtpTestServer.LinkIn(message).Query)["token"].ToString();

        _app.Time.Advance(OrganizationMembers.InvitationLifetime + TimeSpan.FromSeconds(1));

        Assert.Equal(InvitationOutcome.Expired, (await Members.AcceptAsync(Actor(ada.Id), token)).Outcome);
        Assert.Null(await _app.Organizations().RoleOfAsync(ada.Id, org.Id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not an address")]
    [InlineData("ada@example.com, eve@example.com")]
    [InlineData("Ada <ada@example.com>")]
    public async Task AnInvitationNeedsOneAddress(string address)
    {
        var org = await _app.CreateOrganizationAsync();

        var result = await Members.InviteAsync(Actor(org.OwnerId), org.Id, address, OrganizationRole.Member, Site);

        Assert.False(result.Done);
        Assert.Equal(0, await _app.InStoreAsync(db => db.OrganizationInvitations.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.OutboxMessages.CountAsync(m => m.Kind == OrganizationMembers.InviteKind)));
    }

    /// <summary>The role matrix: who (by role, or an outsider) may invite someone with which role.</summary>
    [Theory]
    [InlineData(null, OrganizationRole.Member, false)]
    [InlineData(OrganizationRole.Member, OrganizationRole.Member, false)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Member, true)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Admin, true)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Owner, false)]
    [InlineData(OrganizationRole.Owner, OrganizationRole.Owner, true)]
    public async Task WhoMayInvite(OrganizationRole? inviter, OrganizationRole role, bool allowed)
    {
        var org = await _app.CreateOrganizationAsync();
        var actor = inviter switch
        {
            null => (await _app.CreateUserAsync("outsider@example.com", Password)).Id,
            OrganizationRole.Owner => org.OwnerId,
            { } r => (await _app.AddMemberWithKeyAsync(org, r)).UserId,
        };

        var result = await Members.InviteAsync(Actor(actor), org.Id, "new@example.com", role, Site);

        Assert.Equal(allowed, result.Done);
        Assert.Equal(allowed ? 1 : 0, await _app.InStoreAsync(db => db.OrganizationInvitations.CountAsync()));
    }

    /// <summary>The role matrix: who may change whose role to what, and remove whom.</summary>
    [Theory]
    [InlineData(OrganizationRole.Member, OrganizationRole.Member, OrganizationRole.Admin, false)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Member, OrganizationRole.Admin, true)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Admin, OrganizationRole.Member, true)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Member, OrganizationRole.Owner, false)]
    [InlineData(OrganizationRole.Admin, OrganizationRole.Owner, OrganizationRole.Member, false)]
    [InlineData(OrganizationRole.Owner, OrganizationRole.Member, OrganizationRole.Owner, true)]
    [InlineData(OrganizationRole.Owner, OrganizationRole.Owner, OrganizationRole.Admin, true)]
    public async Task WhoMayChangeRolesAndRemove(OrganizationRole actorRole, OrganizationRole targetRole, OrganizationRole newRole, bool allowed)
    {
        var org = await _app.CreateOrganizationAsync();
        var actor = actorRole == OrganizationRole.Owner ? org.OwnerId : (await _app.AddMemberWithKeyAsync(org, actorRole)).UserId;
        var target = await _app.AddMemberWithKeyAsync(org, targetRole);

        var changed = await Members.SetRoleAsync(Actor(actor), org.Id, target.UserId, newRole);

        Assert.Equal(allowed, changed.Done);
        Assert.Equal(allowed ? newRole : targetRole, await _app.Organizations().RoleOfAsync(target.UserId, org.Id));

        // Removing: the same rule as changing the role the target has now.
        var current = (await _app.Organizations().RoleOfAsync(target.UserId, org.Id))!.Value;
        var removed = await Members.RemoveAsync(Actor(actor), org.Id, target.UserId);
        Assert.Equal(OrganizationMembers.MayGrant(actorRole, current), removed.Done);
    }

    [Fact]
    public async Task RemovalAndLeavingRevokeTheMembersOrganizationKeysButNotTheirOwn()
    {
        var org = await _app.CreateOrganizationAsync(credits: 1m);
        var carol = await _app.AddMemberWithKeyAsync(org);
        var dave = await _app.AddMemberWithKeyAsync(org);
        var (_, carolsOwn) = await _app.Services.GetRequiredService<ApiKeyService>().CreateAsync(carol.UserId, new NewApiKey("own"));

        Assert.True((await Members.RemoveAsync(Actor(org.OwnerId), org.Id, carol.UserId)).Done);
        Assert.True((await Members.RemoveAsync(Actor(dave.UserId), org.Id, dave.UserId)).Done);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(carol.Key).GetAsync("/api/v1/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(dave.Key).GetAsync("/api/v1/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(carolsOwn).GetAsync("/api/v1/credits")).StatusCode);
        Assert.Null(await _app.Organizations().KeysAsync(carol.UserId, org.Id));
        Assert.Equal(1, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationRemove)));
        Assert.Equal(1, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationLeave && e.ActorId == dave.UserId)));
    }

    [Fact]
    public async Task TheLastOwnerCanNeitherLeaveNorStepDown()
    {
        var org = await _app.CreateOrganizationAsync();

        Assert.False((await Members.RemoveAsync(Actor(org.OwnerId), org.Id, org.OwnerId)).Done);
        Assert.False((await Members.SetRoleAsync(Actor(org.OwnerId), org.Id, org.OwnerId, OrganizationRole.Admin)).Done);
        Assert.Equal(OrganizationRole.Owner, await _app.Organizations().RoleOfAsync(org.OwnerId, org.Id));

        var second = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Owner);
        Assert.True((await Members.RemoveAsync(Actor(org.OwnerId), org.Id, org.OwnerId)).Done);
        Assert.Equal(OrganizationRole.Owner, await _app.Organizations().RoleOfAsync(second.UserId, org.Id));
    }
}

/// <summary>The last-owner rule under concurrency: the organization's row lock orders member changes, on SQLite and PostgreSQL.</summary>
public abstract class LastOwnerRaceTests : Portal.Tests.Store.StoreAppTest
{
    [Fact]
    public virtual async Task TwoOwnersSteppingDownAtOnceLeaveOneOwner()
    {
        var members = App.Services.GetRequiredService<OrganizationMembers>();
        for (var round = 0; round < 5; round++)
        {
            var org = await App.CreateOrganizationAsync($"Race {round}");
            var second = await App.AddMemberWithKeyAsync(org, OrganizationRole.Owner);

            var results = await Task.WhenAll(
                Task.Run(() => members.SetRoleAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, org.OwnerId, OrganizationRole.Admin)),
                Task.Run(() => members.SetRoleAsync(OrganizationFixtures.ActorFor(second.UserId), org.Id, second.UserId, OrganizationRole.Admin)));

            Assert.Single(results, r => r.Done);
            Assert.Equal(1, await App.InStoreAsync(db => db.OrganizationMembers.CountAsync(m => m.OrganizationId == org.Id && m.Role == OrganizationRole.Owner)));
        }
    }
}

public sealed class SqliteLastOwnerRaceTests : LastOwnerRaceTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresLastOwnerRaceTests : LastOwnerRaceTests
{
    protected override bool OnPostgres => true;

    [Portal.Tests.Store.PostgresFact]
    public override Task TwoOwnersSteppingDownAtOnceLeaveOneOwner() => base.TwoOwnersSteppingDownAtOnceLeaveOneOwner();
}
