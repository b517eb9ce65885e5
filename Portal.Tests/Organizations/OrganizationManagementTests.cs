using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.Organizations;

/// <summary>
/// What the organization pages ask of the store (ADR 37): spend per member this month by role, the member
/// list, open invitations and their withdrawal, rename, and deletion — owner only, refused while credit
/// remains, revoking keys and removing members in one transaction, keeping the ledger. On SQLite and PostgreSQL.
/// </summary>
public abstract class OrganizationManagementTests : StoreAppTest
{
    private const string Body = """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":20}""";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    private OrganizationService Organizations => App.Organizations();

    private OrganizationMembers Members => App.Services.GetRequiredService<OrganizationMembers>();

    private static AuditActor Actor(string userId) => OrganizationFixtures.ActorFor(userId);

    [Fact]
    public virtual async Task AdminsSeeEveryMembersSpendThisMonthAndAMemberTheirOwn()
    {
        var org = await App.CreateOrganizationAsync(credits: 5m);
        var admin = await App.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var carol = await App.AddMemberWithKeyAsync(org);
        var dave = await App.AddMemberWithKeyAsync(org);
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(carol.Key).PostChatAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(carol.Key).PostChatAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(dave.Key).PostChatAsync(Body)).StatusCode);
        var spent = await App.InStoreAsync(db => db.UsageRecords.GroupBy(r => r.MemberId!).ToDictionaryAsync(g => g.Key, g => g.Sum(r => r.CostMicros)));

        var all = (await Organizations.MemberSpendAsync(admin.UserId, org.Id))!;
        Assert.Equal(4, all.Count); // the owner and the admin spent nothing, and are listed
        Assert.Equal([carol.UserId, dave.UserId], all.Take(2).Select(m => m.MemberId).OrderBy(id => id == dave.UserId));
        Assert.Equal((2, spent[carol.UserId]), (all[0].Requests, all[0].SpendMicros));
        Assert.Equal(all, (await Organizations.MemberSpendAsync(org.OwnerId, org.Id))!);

        var own = Assert.Single((await Organizations.MemberSpendAsync(dave.UserId, org.Id))!);
        Assert.Equal((dave.UserId, spent[dave.UserId]), (own.MemberId, own.SpendMicros));
        Assert.Null(await Organizations.MemberSpendAsync((await App.CreateUserAsync("eve@example.com", "correct horse battery")).Id, org.Id));

        // Next month starts at nothing.
        App.Time.Advance(TimeSpan.FromDays(40));
        Assert.All((await Organizations.MemberSpendAsync(admin.UserId, org.Id))!, m => Assert.Equal(0, m.SpendMicros));
    }

    [Fact]
    public virtual async Task AnOpenInvitationIsListedForAdminsAndWithdrawnByThoseWhoseRoleReachesIt()
    {
        var org = await App.CreateOrganizationAsync();
        var admin = await App.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var member = await App.AddMemberWithKeyAsync(org);
        Assert.True((await Members.InviteAsync(Actor(org.OwnerId), org.Id, "new-owner@example.com", OrganizationRole.Owner, "http://localhost")).Done);
        Assert.True((await Members.InviteAsync(Actor(admin.UserId), org.Id, "ada@example.com", OrganizationRole.Member, "http://localhost")).Done);
        var pending = (await Members.PendingAsync(admin.UserId, org.Id))!;
        Assert.Equal(["ada@example.com", "new-owner@example.com"], pending.Select(i => i.Email));
        Assert.Empty((await Members.PendingAsync(member.UserId, org.Id))!);
        Assert.Null(await Members.PendingAsync((await App.CreateUserAsync("eve@example.com", "correct horse battery")).Id, org.Id));
        var toAda = pending[0].Id;
        var toOwner = pending[1].Id;

        Assert.False((await Members.RevokeInvitationAsync(Actor(member.UserId), org.Id, toAda)).Done);
        Assert.False((await Members.RevokeInvitationAsync(Actor(admin.UserId), org.Id, toOwner)).Done); // an owner's, beyond an admin
        var other = await App.CreateOrganizationAsync("Other");
        Assert.False((await Members.RevokeInvitationAsync(Actor(other.OwnerId), other.Id, toAda)).Done); // named under their own organization
        Assert.False((await Members.RevokeInvitationAsync(Actor(other.OwnerId), org.Id, toAda)).Done);
        Assert.True((await Members.RevokeInvitationAsync(Actor(admin.UserId), org.Id, toAda)).Done);
        Assert.False((await Members.RevokeInvitationAsync(Actor(admin.UserId), org.Id, toAda)).Done); // once
        Assert.True((await Members.RevokeInvitationAsync(Actor(org.OwnerId), org.Id, toOwner)).Done);

        Assert.Empty((await Members.PendingAsync(admin.UserId, org.Id))!);
        Assert.Equal(2, await App.InStoreAsync(db => db.OrganizationInvitations.CountAsync(i => i.RevokedAt != null)));
        var audited = await App.InStoreAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.OrganizationInviteRevoke).Select(e => e.ActorId).ToListAsync());
        Assert.Equal([admin.UserId, org.OwnerId], audited);
    }

    [Fact]
    public virtual async Task MembersAreListedOwnersFirstForMembersOnly()
    {
        var org = await App.CreateOrganizationAsync();
        var admin = await App.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var member = await App.AddMemberWithKeyAsync(org);

        var listed = (await Members.ListAsync(member.UserId, org.Id))!;

        Assert.Equal([org.OwnerId, admin.UserId, member.UserId], listed.Select(m => m.UserId));
        Assert.All(listed, m => Assert.EndsWith("@example.test", m.Email));
        Assert.Null(await Members.ListAsync((await App.CreateUserAsync("eve@example.com", "correct horse battery")).Id, org.Id));
    }

    [Fact]
    public virtual async Task AdminsAndOwnersRenameAndAMemberCannot()
    {
        var org = await App.CreateOrganizationAsync("Acme");
        var admin = await App.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var member = await App.AddMemberWithKeyAsync(org);

        Assert.False((await Organizations.RenameAsync(Actor(member.UserId), org.Id, "Mine now")).Done);
        Assert.False((await Organizations.RenameAsync(Actor(admin.UserId), org.Id, "  ")).Done);
        Assert.True((await Organizations.RenameAsync(Actor(admin.UserId), org.Id, " Acme Research ")).Done);

        Assert.Equal("Acme Research", (await Organizations.MembershipAsync(member.UserId, org.Id))!.Name);
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.OrganizationRename));
        Assert.Equal(admin.UserId, entry.ActorId);
        Assert.Contains("Acme Research", entry.Details);
    }

    [Fact]
    public virtual async Task OnlyTheOwnerDeletesAndNotWhileCreditRemains()
    {
        var org = await App.CreateOrganizationAsync("Acme", credits: 1m);
        var admin = await App.AddMemberWithKeyAsync(org, OrganizationRole.Admin);

        Assert.False((await Organizations.DeleteAsync(Actor(admin.UserId), org.Id, "Acme")).Done);
        var withCredit = await Organizations.DeleteAsync(Actor(org.OwnerId), org.Id, "Acme");
        Assert.False(withCredit.Done);
        Assert.Contains("$1.00 of credit", withCredit.Message);
        Assert.Contains("Type the organization's name", (await Organizations.DeleteAsync(Actor(org.OwnerId), org.Id, "acme")).Message);
        Assert.Equal(OrganizationRole.Admin, await Organizations.RoleOfAsync(admin.UserId, org.Id));
        Assert.Null(await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == admin.KeyId).Select(k => k.RevokedAt).SingleAsync()));
    }

    [Fact]
    public virtual async Task DeletingRevokesKeysRemovesMembersWithdrawsInvitationsAndKeepsTheLedger()
    {
        var org = await App.CreateOrganizationAsync("Acme", credits: 1m);
        var member = await App.AddMemberWithKeyAsync(org);
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(member.Key).PostChatAsync(Body)).StatusCode);
        Assert.True((await Members.InviteAsync(Actor(org.OwnerId), org.Id, "ada@example.com", OrganizationRole.Member, "http://localhost")).Done);
        // Spend the rest, as the refusal says: an admin deducts it.
        await App.Services.GetRequiredService<CreditsLedger>().GrantAsync(org.Id, -await App.BalanceAsync(org.Id), "closing", actorId: null);

        var deleted = await Organizations.DeleteAsync(Actor(org.OwnerId), org.Id, " Acme ");

        Assert.True(deleted.Done, deleted.Message);
        Assert.Empty(await Organizations.MembershipsAsync(org.OwnerId));
        Assert.Null(await Organizations.RoleOfAsync(member.UserId, org.Id));
        Assert.NotNull(await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == member.KeyId).Select(k => k.RevokedAt).SingleAsync()));
        Assert.Empty((await Members.PendingAsync(org.OwnerId, org.Id)) ?? []);
        Assert.Equal(1, await App.InStoreAsync(db => db.OrganizationInvitations.CountAsync(i => i.RevokedAt != null)));
        // The books stay: the organization's row, ledger and usage.
        Assert.Equal(1, await App.InStoreAsync(db => db.Organizations.CountAsync(o => o.Id == org.Id)));
        Assert.True(await App.InStoreAsync(db => db.Ledger.CountAsync(e => e.UserId == org.Id)) >= 3);
        Assert.Equal([member.UserId], await App.InStoreAsync(db => db.UsageRecords.Select(r => r.MemberId).ToListAsync()));
        var entry = await App.InStoreAsync(db => db.AuditEntries.SingleAsync(e => e.Action == AuditActions.OrganizationDelete));
        Assert.Equal(org.OwnerId, entry.ActorId);
        Assert.Contains("\"revokedKeys\":1", entry.Details);
    }
}

public sealed class SqliteOrganizationManagementTests : OrganizationManagementTests
{
    protected override bool OnPostgres => false;
}

public sealed class PostgresOrganizationManagementTests : OrganizationManagementTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task AdminsSeeEveryMembersSpendThisMonthAndAMemberTheirOwn() => base.AdminsSeeEveryMembersSpendThisMonthAndAMemberTheirOwn();

    [PostgresFact]
    public override Task AnOpenInvitationIsListedForAdminsAndWithdrawnByThoseWhoseRoleReachesIt() => base.AnOpenInvitationIsListedForAdminsAndWithdrawnByThoseWhoseRoleReachesIt();

    [PostgresFact]
    public override Task MembersAreListedOwnersFirstForMembersOnly() => base.MembersAreListedOwnersFirstForMembersOnly();

    [PostgresFact]
    public override Task AdminsAndOwnersRenameAndAMemberCannot() => base.AdminsAndOwnersRenameAndAMemberCannot();

    [PostgresFact]
    public override Task OnlyTheOwnerDeletesAndNotWhileCreditRemains() => base.OnlyTheOwnerDeletesAndNotWhileCreditRemains();

    [PostgresFact]
    public override Task DeletingRevokesKeysRemovesMembersWithdrawsInvitationsAndKeepsTheLedger() => base.DeletingRevokesKeysRemovesMembersWithdrawsInvitationsAndKeepsTheLedger();
}
