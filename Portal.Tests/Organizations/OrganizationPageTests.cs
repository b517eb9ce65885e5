using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;
using Portal.Organizations;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;
using Portal.Usage;

namespace Portal.Tests.Organizations;

/// <summary>
/// The organization pages against a real (SQLite) Portal, by role: what an owner, an admin and a member
/// see and may do on the dashboard, keys, members and settings pages; a non-member gets "not found" and
/// nothing of the organization.
/// </summary>
public sealed class OrganizationPageTests : AdminComponentTestBase
{
    protected override void AddServices()
    {
        Services.AddSingleton(App.Service<OrganizationService>());
        Services.AddSingleton(App.Service<UsageQueries>());
        Services.AddSingleton(App.Service<ModelCatalog>());
        Services.AddSingleton(App.Service<ApiKeyService>());
        Services.AddSingleton(App.Service<EmailVerification>());
        Services.AddSingleton(App.Service<TimeProvider>());
        Services.AddSingleton(App.Service<IOptions<ApiKeyOptions>>());
        Services.AddSingleton(App.Service<Portal.Alerts.LowBalanceAlerts>());
        JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudObserveElementSize", _ => true)
            .SetResult(new MudBlazor.Interop.ElementSize { Width = 650, Height = 240, Timestamp = 1 });
    }

    [Fact]
    public async Task ANonMemberGetsNotFoundOnEveryPageAndNothingOfTheOrganization()
    {
        var org = await App.CreateOrganizationAsync("Secret Co", credits: 3m);
        await SignInAsync((await App.CreateUserAsync("eve@example.com", AdminTestHelpers.Password)).Id, "eve@example.com");

        foreach (var page in new IRenderedComponent<Microsoft.AspNetCore.Components.IComponent>[] { RenderPage<OrganizationDashboardPage>(org.Id),
                     RenderPage<OrganizationKeysPage>(org.Id), RenderPage<OrganizationMembersPage>(org.Id), RenderPage<OrganizationSettingsPage>(org.Id) })
        {
            page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=org-not-found]")), Wait);
            Assert.DoesNotContain("Secret Co", page.Markup);
            Assert.DoesNotContain("$3.00", page.Markup);
        }
    }

    [Theory]
    [InlineData(OrganizationRole.Member)]
    [InlineData(OrganizationRole.Admin)]
    [InlineData(OrganizationRole.Owner)]
    public async Task EachRoleSeesTheActionsItMayTake(OrganizationRole role)
    {
        var org = await App.CreateOrganizationAsync("Acme", credits: 3m);
        var other = await App.AddMemberWithKeyAsync(org);
        var viewer = role == OrganizationRole.Owner ? new ApiAccount(org.OwnerId, "", "") : await App.AddMemberWithKeyAsync(org, role);
        Assert.True((await App.Service<OrganizationMembers>().InviteAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, "ada@example.com",
            OrganizationRole.Member, "http://localhost")).Done);
        await SignInAsync(viewer.UserId, await EmailOfAsync(viewer.UserId));
        var admin = role >= OrganizationRole.Admin;
        var memberCount = role == OrganizationRole.Owner ? 2 : 3; // the owner, the other member, and the viewer unless they are the owner

        var dashboard = RenderPage<OrganizationDashboardPage>(org.Id);
        dashboard.WaitForAssertion(() => Assert.Equal("$3.00", dashboard.Find("[data-testid=balance-available] .stat-value").TextContent), Wait);
        Assert.Equal(admin, dashboard.FindAll("[data-testid=redeem-card]").Count == 1);
        Assert.Equal(admin, dashboard.FindAll("a.org-tab[href$='/settings']").Count == 1);
        var spendRows = dashboard.FindAll("[data-testid=member-spend-row]");
        Assert.Equal(admin ? memberCount : 1, spendRows.Count);
        Assert.Contains(spendRows, r => r.TextContent.Contains("(you)"));

        var members = RenderPage<OrganizationMembersPage>(org.Id);
        members.WaitForAssertion(() => Assert.Equal(memberCount, members.FindAll("[data-testid=member-row]").Count), Wait);
        Assert.Equal(admin, members.FindAll("[data-testid=invite-form]").Count == 1);
        Assert.Equal(admin, members.FindAll("[data-testid=pending-invitations]").Count == 1);
        Assert.Single(members.FindAll("[data-testid=leave]"));
        // Admins manage the plain member (and owners the admin too); a member manages no one.
        var manageable = role switch { OrganizationRole.Owner => 1, OrganizationRole.Admin => 1, _ => 0 };
        Assert.Equal(manageable, members.FindAll("[data-testid=remove-member]").Count);
        Assert.Equal(memberCount, members.FindAll("[data-testid=member-budget]").Count);
        // Budgets: admins and owners set those of the members they manage and their own; a member sets none.
        Assert.Equal(admin ? 2 : 0, members.FindAll("[data-testid=member-budget-edit]").Count);

        var keys = RenderPage<OrganizationKeysPage>(org.Id);
        var expected = role == OrganizationRole.Owner ? 1 : admin ? 2 : 1; // the owner made none; an admin sees both members' keys
        keys.WaitForAssertion(() => Assert.Equal(expected, keys.FindAll("[data-testid=org-key-row]").Count), Wait);
        Assert.Equal(admin, keys.Markup.Contains(other.KeyId, StringComparison.Ordinal));
        // A key's budget: its maker's to change, and an admin's or owner's for any key.
        Assert.Equal(expected, keys.FindAll("button[aria-label^='Budget of']").Count);

        var settings = RenderPage<OrganizationSettingsPage>(org.Id);
        settings.WaitForAssertion(() => Assert.NotEmpty(settings.FindAll("[data-testid=org-page]")), Wait);
        Assert.Equal(admin, settings.FindAll("[data-testid=rename-submit]").Count == 1);
        Assert.Equal(role == OrganizationRole.Owner, settings.FindAll("[data-testid=delete-card]").Count == 1);
        Assert.Equal(role == OrganizationRole.Owner, settings.FindAll("[data-testid=org-low-balance]").Count == 1);
    }

    [Fact]
    public async Task AMemberMakesAnOrganizationKeyOnTheKeysPage()
    {
        var org = await App.CreateOrganizationAsync("Acme");
        var member = await App.AddMemberWithKeyAsync(org);
        await SignInAsync(member.UserId, await EmailOfAsync(member.UserId));
        var page = RenderPage<OrganizationKeysPage>(org.Id);
        page.WaitForAssertion(() => page.Find("[data-testid=org-create-key]"), Wait);

        page.Find("[data-testid=org-create-key] ").Click();
        page.Find("#key-name").Change("ci runner");
        page.Find("[data-testid=create-key-form] form").Submit();

        page.WaitForAssertion(() => Assert.StartsWith("sk-portal-", page.Find("[data-testid=new-key]").TextContent), Wait);
        var key = await App.InStoreAsync(db => db.ApiKeys.SingleAsync(k => k.Name == "ci runner"));
        Assert.Equal((org.Id, member.UserId), (key.OrganizationId, key.UserId));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=org-key-row]").Count), Wait);
    }

    [Fact]
    public async Task AnAdminWithdrawsAnInvitationOnTheMembersPage()
    {
        var org = await App.CreateOrganizationAsync("Acme");
        Assert.True((await App.Service<OrganizationMembers>().InviteAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, "ada@example.com",
            OrganizationRole.Member, "http://localhost")).Done);
        await SignInAsync(org.OwnerId, await EmailOfAsync(org.OwnerId));
        var page = RenderPage<OrganizationMembersPage>(org.Id);
        page.WaitForAssertion(() => page.Find("[data-testid=revoke-invitation]"), Wait);

        page.Find("[data-testid=revoke-invitation]").Click();

        ExpectSnackbar("Withdrew the invitation to ada@example.com; its link no longer works.");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=pending-invitations]")), Wait);
        Assert.NotNull(await App.InStoreAsync(db => db.OrganizationInvitations.Select(i => i.RevokedAt).SingleAsync()));
    }

    [Fact]
    public async Task TheMembersPageShowsAMembersBudgetWithWhatItsPeriodSpentAndWhenItResets()
    {
        var org = await App.CreateOrganizationAsync("Acme", credits: 3m);
        var member = await App.AddMemberWithKeyAsync(org);
        Assert.True((await App.Service<OrganizationMembers>().SetBudgetAsync(OrganizationFixtures.ActorFor(org.OwnerId), org.Id, member.UserId,
            new KeyBudget(BudgetPeriod.Month, 5_000_000, "Europe/Berlin"))).Done);
        await SignInAsync(org.OwnerId, await EmailOfAsync(org.OwnerId));

        var page = RenderPage<OrganizationMembersPage>(org.Id);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=member-budget-state]")), Wait);
        var state = page.Find("[data-testid=member-budget-state]").TextContent;
        Assert.Contains("$0.00 of $5.00 this month", state);
        Assert.Contains("resets", state);
        Assert.Contains("(periods in Europe/Berlin)", state);
    }

    [Fact]
    public async Task AnOwnerSetsTheOrganizationsLowBalanceAlertAndABadAmountChangesNothing()
    {
        var org = await App.CreateOrganizationAsync("Acme", credits: 3m);
        await SignInAsync(org.OwnerId, await EmailOfAsync(org.OwnerId));
        var page = RenderPage<OrganizationSettingsPage>(org.Id);
        page.WaitForAssertion(() => page.Find("[data-testid=org-low-balance]"), Wait);

        page.Find("#org-low-balance-threshold").Change("lots");
        page.Find("[data-testid=org-low-balance] form").Submit();
        page.WaitForAssertion(() => Assert.Contains("Enter an amount in US dollars", page.Find("[data-testid=org-low-balance-result]").TextContent), Wait);
        Assert.Null(await App.InStoreAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.LowBalanceThresholdMicros).SingleAsync()));

        page.Find("#org-low-balance-threshold").Change("2.50");
        page.Find("[data-testid=org-low-balance] form").Submit();

        page.WaitForAssertion(() => Assert.Contains("below $2.50", page.Find("[data-testid=org-low-balance-state]").TextContent), Wait);
        Assert.Equal(2_500_000, await App.InStoreAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.LowBalanceThresholdMicros).SingleAsync()));
    }

    [Fact]
    public async Task TheContextSwitchListsTheUsersOrganizationsAndCreate()
    {
        var org = await App.CreateOrganizationAsync("Acme");
        await App.CreateOrganizationAsync("Not hers");
        await SignInAsync(org.OwnerId, await EmailOfAsync(org.OwnerId));

        var list = Render<ContextSwitch>(p => p.Add(c => c.Vertical, true));

        list.WaitForAssertion(() => Assert.Equal(["Acme"], list.FindAll("[data-testid=context-org]").Select(a => a.TextContent.Trim())), Wait);
        Assert.Equal(OrganizationPaths.Dashboard(org.Id), list.Find("[data-testid=context-org]").GetAttribute("href"));
        Assert.Equal(OrganizationPaths.Create, list.Find("[data-testid=context-create]").GetAttribute("href"));
    }

    [Fact]
    public async Task CreatingAnOrganizationLandsOnItsDashboard()
    {
        var user = await App.CreateUserAsync("ada@example.com", AdminTestHelpers.Password);
        await SignInAsync(user.Id, "ada@example.com");
        var page = Render<CreateOrganizationPage>();

        page.Find("#org-name").Change("Acme Research");
        page.Find("form").Submit();

        var org = await WaitForAsync(() => App.InStoreAsync(db => db.Organizations.SingleOrDefaultAsync()));
        Assert.Equal("Acme Research", org.Name);
        Assert.Equal(OrganizationRole.Owner, await App.Organizations().RoleOfAsync(user.Id, org.Id));
        page.WaitForAssertion(() => Assert.EndsWith(OrganizationPaths.Dashboard(org.Id), Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri), Wait);
    }

    private IRenderedComponent<T> RenderPage<T>(string id) where T : Microsoft.AspNetCore.Components.IComponent =>
        Render<T>(builder =>
        {
            builder.OpenComponent<T>(0);
            builder.AddAttribute(1, "Id", id);
            builder.CloseComponent();
        });

    private Task SignInAsync(string userId, string email)
    {
        SignInAs(email);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, userId), new Claim(ClaimTypes.Email, email));
        return Task.CompletedTask;
    }

    private Task<string> EmailOfAsync(string userId) => App.InStoreAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email!).SingleAsync());

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> read) where T : class
    {
        for (var i = 0; i < 100; i++)
        {
            if (await read() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("nothing appeared");
    }
}
