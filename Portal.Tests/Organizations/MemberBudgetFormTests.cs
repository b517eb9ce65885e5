using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Organizations;
using Portal.Tests.Components;
using Portal.Tests.Gateway;

namespace Portal.Tests.Organizations;

/// <summary>
/// The member budget form a members page hosts: an owner or admin sets, changes or removes a member's
/// budget through the service (which decides who may), sees what happened, and bad values are explained
/// beside their fields without saving anything.
/// </summary>
public sealed class MemberBudgetFormTests : ComponentTestBase
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly PortalApplication _app = new();

    public MemberBudgetFormTests()
    {
        Services.AddSingleton(_app.Services.GetRequiredService<OrganizationMembers>());
        Services.AddSingleton(_app.Services.GetRequiredService<IOptions<IdentityOptions>>());
    }

    protected override async Task DisposeFixturesAsync() => await _app.DisposeAsync();

    private IRenderedComponent<MemberBudgetFormHost> RenderAs(string userId, string organizationId, string memberId, KeyBudget? budget = null)
    {
        SignInAs($"{userId}@example.test");
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        return Render<MemberBudgetFormHost>(p => p
            .Add(h => h.OrganizationId, organizationId)
            .Add(h => h.MemberId, memberId)
            .Add(h => h.Budget, budget));
    }

    private Task<KeyBudget?> BudgetOfAsync(string memberId) =>
        _app.InStoreAsync(db => db.OrganizationMembers.AsNoTracking().Where(m => m.UserId == memberId).Select(m => m.Budget).SingleAsync());

    [Fact]
    public async Task AnOwnerSetsAMembersMonthlyBudgetAndSeesIt()
    {
        var org = await _app.CreateOrganizationAsync();
        var member = await _app.AddMemberWithKeyAsync(org);
        var form = RenderAs(org.OwnerId, org.Id, member.UserId);
        var prefix = $"#member-budget-{member.UserId}";
        Assert.Contains("set below it, every key of this member here stops", form.Find("[data-testid=budget-note]").TextContent);

        form.Find($"{prefix}-amount").Change("$40");
        form.Find($"{prefix}-zone").Change("America/New_York");
        form.Find("[data-testid=budget-editor]").Submit();

        form.WaitForAssertion(() => Assert.Contains("The member's budget is now $40.00 daily (America/New_York); a fresh period starts now.",
            form.Find("[data-testid=member-budget-saved]").TextContent), Wait);
        Assert.Equal(new KeyBudget(BudgetPeriod.Day, 40_000_000, "America/New_York"), await BudgetOfAsync(member.UserId));
        Assert.Equal(1, await _app.InStoreAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.OrganizationMemberBudgetSet && e.ActorId == org.OwnerId)));
    }

    [Theory]
    [InlineData(false)] // a member setting their own
    [InlineData(true)] // an admin setting the owner's
    public async Task OneWhoMayNotIsToldAndNothingChanges(bool adminOverOwner)
    {
        var org = await _app.CreateOrganizationAsync();
        var member = await _app.AddMemberWithKeyAsync(org);
        var admin = await _app.AddMemberWithKeyAsync(org, OrganizationRole.Admin);
        var (actor, target) = adminOverOwner ? (admin.UserId, org.OwnerId) : (member.UserId, member.UserId);

        var form = RenderAs(actor, org.Id, target);
        form.Find($"#member-budget-{target}-amount").Change("1");
        form.Find("[data-testid=budget-editor]").Submit();

        form.WaitForAssertion(() => Assert.Contains("You may not do that in this organization", form.Find("[data-testid=budget-error]").TextContent), Wait);
        Assert.Null(await BudgetOfAsync(target));
        Assert.Empty(form.FindAll("[data-testid=member-budget-saved]"));
        Assert.False(await _app.InStoreAsync(db => db.AuditEntries.AnyAsync(e => e.Action == AuditActions.OrganizationMemberBudgetSet)));
    }

    [Theory]
    [InlineData("0", "", "amount", "more than $0")]
    [InlineData("12,50", "", "amount", "Enter an amount in US dollars")]
    [InlineData("0.0000001", "", "amount", "6 decimal places")]
    [InlineData("3", "Europe/Berlin/../../passwd", "zone", "Enter a time zone")]
    [InlineData("3", "Not a zone", "zone", "Enter a time zone")]
    public async Task BadValuesAreExplainedAndSaveNothing(string amount, string zone, string field, string message)
    {
        var org = await _app.CreateOrganizationAsync();
        var member = await _app.AddMemberWithKeyAsync(org);
        var form = RenderAs(org.OwnerId, org.Id, member.UserId);
        var prefix = $"#member-budget-{member.UserId}";

        form.Find($"{prefix}-amount").Change(amount);
        form.Find($"{prefix}-zone").Change(zone);
        form.Find("[data-testid=budget-editor]").Submit();

        form.WaitForAssertion(() => Assert.Contains(message,
            form.Find($"{prefix}-{field}").Closest(".mud-input-control")!.QuerySelector(".mud-input-helper-text.mud-input-error")?.TextContent), Wait);
        Assert.Null(await BudgetOfAsync(member.UserId));
        Assert.Empty(form.FindAll("[data-testid=member-budget-saved]"));
    }

    [Fact]
    public async Task AnEmptyAmountRemovesTheMembersBudget()
    {
        var org = await _app.CreateOrganizationAsync();
        var member = await _app.AddMemberWithKeyAsync(org);
        var budget = new KeyBudget(BudgetPeriod.Week, 7_000_000);
        Assert.True((await _app.Services.GetRequiredService<OrganizationMembers>().SetBudgetAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, member.UserId, budget)).Done);
        var form = RenderAs(org.OwnerId, org.Id, member.UserId, budget);
        Assert.Equal("7.00", form.Find($"#member-budget-{member.UserId}-amount").GetAttribute("value"));

        form.Find($"#member-budget-{member.UserId}-amount").Change(" ");
        form.Find("[data-testid=budget-editor]").Submit();

        form.WaitForAssertion(() => Assert.Contains("The member's budget was removed.", form.Find("[data-testid=member-budget-saved]").TextContent), Wait);
        Assert.Null(await BudgetOfAsync(member.UserId));
    }
}
