using System.ClientModel;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Organizations;
using Portal.Tests.Gateway;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Organizations;

/// <summary>
/// Who may set a budget that resets after the fact, and what a change does: a member's budget by the
/// organization's admins and owners (admins not an owner's), a key's by its owner, its maker or the
/// organization's admins; each change audited; a new period or zone starts afresh, a lower amount keeps
/// the spend and stops the key; bad values change nothing.
/// </summary>
public sealed class BudgetChangeTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private OrganizationMembers Members => _app.Services.GetRequiredService<OrganizationMembers>();

    private ApiKeyService Keys => _app.Services.GetRequiredService<ApiKeyService>();

    private static AuditActor Actor(string userId) => OrganizationFixtures.ActorFor(userId);

    private static readonly KeyBudget Daily = new(BudgetPeriod.Day, Money.FromUsd(5m));

    [Fact]
    public async Task AdminsAndOwnersSetMembersBudgetsButAdminsNotAnOwnersAndMembersNone()
    {
        var org = await _app.CreateOrganizationAsync();
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var member = await _app.AddMemberWithKeyAsync(org);
        var other = await _app.AddMemberWithKeyAsync(org);
        var outsider = await _app.CreateApiAccountAsync();

        Assert.True((await Members.SetBudgetAsync(Actor(org.OwnerId), org.Id, admin.UserId, Daily)).Done);
        Assert.True((await Members.SetBudgetAsync(Actor(admin.UserId), org.Id, member.UserId, Daily)).Done);
        Assert.True((await Members.SetBudgetAsync(Actor(admin.UserId), org.Id, admin.UserId, null)).Done);
        Assert.True((await Members.SetBudgetAsync(Actor(org.OwnerId), org.Id, org.OwnerId, Daily)).Done);

        Assert.Equal(MemberChange.NotAllowed, await Members.SetBudgetAsync(Actor(admin.UserId), org.Id, org.OwnerId, null));
        Assert.Equal(MemberChange.NotAllowed, await Members.SetBudgetAsync(Actor(member.UserId), org.Id, member.UserId, null));
        Assert.Equal(MemberChange.NotAllowed, await Members.SetBudgetAsync(Actor(member.UserId), org.Id, other.UserId, Daily));
        Assert.Equal(MemberChange.NotAllowed, await Members.SetBudgetAsync(Actor(outsider.UserId), org.Id, member.UserId, null));
        Assert.Equal(MemberChange.NotAllowed, await Members.SetBudgetAsync(Actor(org.OwnerId), org.Id, outsider.UserId, Daily));

        var rows = await _app.InStoreAsync(db => db.OrganizationMembers.AsNoTracking().Where(m => m.OrganizationId == org.Id).ToDictionaryAsync(m => m.UserId, m => m.Budget));
        Assert.Equal(Daily, rows[org.OwnerId]);
        Assert.Null(rows[admin.UserId]);
        Assert.Equal(Daily, rows[member.UserId]);
        Assert.Null(rows[other.UserId]);
        var audited = await _app.InStoreAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.OrganizationMemberBudgetSet).ToListAsync());
        Assert.Equal(4, audited.Count);
        Assert.All(audited, e => Assert.Equal(OrganizationService.TargetOf(org.Id), e.Target));
        Assert.Contains(audited, e => e.ActorId == admin.UserId && e.Details.Contains(member.UserId) && e.Details.Contains("$5.00 daily"));
    }

    [Theory]
    [InlineData(BudgetPeriod.Day, 0L, null)]
    [InlineData(BudgetPeriod.Day, -5L, null)]
    [InlineData(BudgetPeriod.Day, long.MaxValue, null)]
    [InlineData((BudgetPeriod)42, 1_000L, null)]
    [InlineData(BudgetPeriod.None, 1_000L, null)]
    [InlineData(BudgetPeriod.Day, 1_000L, "Mars/Base")]
    [InlineData(BudgetPeriod.Day, 1_000L, "../../etc/passwd")]
    [InlineData(BudgetPeriod.Day, 1_000L, "UTC")] // stored as no zone: a service is given the form's result, never "UTC"
    public async Task BadBudgetsAreRefusedAndChangeNothing(BudgetPeriod period, long micros, string? zone)
    {
        var org = await _app.CreateOrganizationAsync();
        var member = await _app.AddMemberWithKeyAsync(org);
        var bad = new KeyBudget(period, micros, zone);

        var forMember = await Members.SetBudgetAsync(Actor(org.OwnerId), org.Id, member.UserId, bad);
        var forKey = await Keys.SetBudgetAsync(Actor(member.UserId), member.KeyId, bad);

        Assert.False(forMember.Done);
        Assert.EndsWith("Nothing was changed.", forMember.Message);
        Assert.False(forKey.Done);
        Assert.Null(await _app.InStoreAsync(db => db.OrganizationMembers.Where(m => m.UserId == member.UserId).Select(m => m.BudgetMicros).SingleAsync()));
        Assert.Null(await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == member.KeyId).Select(k => k.BudgetMicros).SingleAsync()));
        Assert.False(await _app.InStoreAsync(db => db.AuditEntries.AnyAsync(e => e.Action == AuditActions.KeyBudgetSet || e.Action == AuditActions.OrganizationMemberBudgetSet)));
    }

    [Fact]
    public async Task AKeysBudgetIsSetByItsOwnerItsMakerOrTheOrganizationsAdminsOnly()
    {
        var personal = await _app.CreateApiAccountAsync();
        var stranger = await _app.CreateApiAccountAsync();
        var org = await _app.CreateOrganizationAsync();
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var maker = await _app.AddMemberWithKeyAsync(org);
        var colleague = await _app.AddMemberWithKeyAsync(org);

        Assert.True((await Keys.SetBudgetAsync(Actor(personal.UserId), personal.KeyId, Daily)).Done);
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(stranger.UserId), personal.KeyId, null));
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(admin.UserId), personal.KeyId, null));
        Assert.True((await Keys.SetBudgetAsync(Actor(maker.UserId), maker.KeyId, Daily)).Done);
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(colleague.UserId), maker.KeyId, null));
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(stranger.UserId), maker.KeyId, null));
        Assert.True((await Keys.SetBudgetAsync(Actor(admin.UserId), colleague.KeyId, Daily)).Done);
        Assert.True((await Keys.SetBudgetAsync(Actor(org.OwnerId), maker.KeyId, null)).Done);
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(personal.UserId), "no-such-key", Daily));

        // A member removed from the organization no longer may, and a revoked key takes no budget.
        Assert.True((await Members.RemoveAsync(Actor(org.OwnerId), org.Id, colleague.UserId)).Done);
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(colleague.UserId), colleague.KeyId, null));
        Assert.Equal(BudgetChange.NotAllowed, await Keys.SetBudgetAsync(Actor(org.OwnerId), colleague.KeyId, null));

        var budgets = await _app.InStoreAsync(db => db.ApiKeys.AsNoTracking().ToDictionaryAsync(k => k.Id, k => k.Budget));
        Assert.Equal((Daily, (KeyBudget?)null, Daily), (budgets[personal.KeyId], budgets[maker.KeyId], budgets[colleague.KeyId]));
        var audited = await _app.InStoreAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.KeyBudgetSet).ToListAsync());
        Assert.Equal(4, audited.Count);
        Assert.Single(audited, e => e.Target == AccountAudit.TargetOf(personal.UserId));
        Assert.Equal(3, audited.Count(e => e.Target == OrganizationService.TargetOf(org.Id)));
    }

    [Fact]
    public async Task ALowerAmountKeepsThePeriodsSpendAndStopsTheKeyUntilItsZonesMidnight()
    {
        var account = await _app.CreateApiAccountAsync(credits: 5m, key: new NewApiKey("spender", Budget: Daily));
        var chat = _app.OpenAiChat(account.Key);
        await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 50 });
        var spent = await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.BudgetSpentMicros).SingleAsync());
        Assert.True(spent > 1);

        // The same days, a lower amount: what today spent still counts.
        var lowered = await Keys.SetBudgetAsync(Actor(account.UserId), account.KeyId, new KeyBudget(BudgetPeriod.Day, 1));
        Assert.True(lowered.Done, lowered.Message);
        Assert.DoesNotContain("fresh", lowered.Message);
        Assert.Equal(spent, await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.BudgetSpentMicros).SingleAsync()));

        // Days in Tokyo instead: a fresh period, $0.000001 a day; 09:30Z is 18:30 in Tokyo, so it resets at 15:00Z.
        var zoned = await Keys.SetBudgetAsync(Actor(account.UserId), account.KeyId, new KeyBudget(BudgetPeriod.Day, 1, "Asia/Tokyo"));
        Assert.Contains("a fresh period starts now", zoned.Message);
        Assert.Equal(0, await _app.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == account.KeyId).Select(k => k.BudgetSpentMicros).SingleAsync()));
        _app.Time.Advance(TimeSpan.FromSeconds(2)); // past the key cache's second

        var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 50 }));
        Assert.Equal(402, refused.Status);
        Assert.Contains("This key's daily budget of $0.000001 has $0.000001 left until 2026-11-22T15:00:00Z", refused.Message);
    }
}
