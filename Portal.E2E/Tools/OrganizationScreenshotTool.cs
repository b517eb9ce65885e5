using System.Net.Http.Headers;
using System.Text;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves an organization's pages — the header's context switch, the dashboard, members and
/// keys — as its owner sees them, in both themes, on a desktop and a phone. One organization is set up
/// first through the pages themselves: a member who accepted by email, an open invitation, credits, keys
/// of two members and some spend.
/// <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter OrganizationScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class OrganizationScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheOrganizationPages() => RunAsync(async () =>
    {
        var folder = Folder();
        var owner = await Portal.CreateUserAsync();
        var (id, name) = await SetUpAsync(owner);
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var suffix = $"{theme}-{viewport.Width}x{viewport.Height}";
                var page = await ThemedPageAsync(theme, owner, viewport);
                var dashboard = new OrganizationDashboardPage(page, id);
                await dashboard.GotoAsync();
                await Expect(dashboard.MemberSpend).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"org-dashboard-{suffix}");

                // The context switch, open: the app bar's menu, or the drawer's list on a phone.
                var header = new Pages.Header(page);
                if (viewport.Width < 960)
                {
                    await header.OpenMenuAsync();
                    await Expect(page.GetByTestId("context-list")).ToBeVisibleAsync();
                }
                else
                {
                    await header.Context.ClickAsync();
                    await Expect(page.Locator(".mud-popover-open").GetByText(name, new() { Exact = true })).ToBeVisibleAsync();
                }

                await ScreenshotAsync(page, folder, $"org-switch-{suffix}", fullPage: false);

                var members = new OrganizationMembersPage(page, id);
                await members.GotoAsync();
                await Expect(members.InvitationTo("pending@example.com")).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"org-members-{suffix}");
                await page.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await page.GetByTestId("member-budget-edit").Last.ClickAsync();
                await Expect(page.GetByTestId("member-budget-dialog")).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"org-member-budget-{suffix}", fullPage: false);
                await page.Keyboard.PressAsync("Escape");

                var keys = new OrganizationKeysPage(page, id);
                await keys.GotoAsync();
                await Expect(keys.Rows).ToHaveCountAsync(2);
                await ScreenshotAsync(page, folder, $"org-keys-{suffix}");
            }
        }
    });

    private async Task<(string Id, string Name)> SetUpAsync(Account owner)
    {
        const string Name = "Acme Research";
        var ownerPage = await NewPageAsync(owner);
        var create = new CreateOrganizationPage(ownerPage);
        await create.GotoAsync();
        var id = await create.CreateAsync(Name);
        var members = new OrganizationMembersPage(ownerPage, id);
        await members.GotoAsync();
        var member = Account.New("member");
        await members.InviteAsync(member.Email);
        await Expect(members.InviteResult).ToContainTextAsync("Invited");
        await members.InviteAsync("pending@example.com");
        await Expect(members.InvitationTo("pending@example.com")).ToBeVisibleAsync();

        var memberPage = await NewPageAsync();
        var signup = new SignupPage(memberPage);
        await signup.GotoAsync();
        await signup.CreateAccountAsync(member);
        await new HomePage(memberPage).ExpectOpenAsync();
        await memberPage.GotoAsync(await Outbox.LinkInMailAsync(Portal.Server, member.Email, "Verify your email for Portal"));
        await memberPage.GotoAsync(await Outbox.LinkInMailAsync(Portal.Server, member.Email, $"You are invited to {Name} on Portal"));
        await memberPage.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await memberPage.GetByTestId("accept-invitation").ClickAsync();
        await Expect(memberPage.GetByTestId("accept-outcome")).ToHaveTextAsync("You joined the organization.");

        var admin = new AdminOrganizationsPage(await NewPageAsync(Portal.Admin));
        await admin.GotoAsync();
        await admin.GrantAsync(Name, "25", "team pilot");
        await Expect(admin.Snackbar).ToContainTextAsync("Granted $25.00");

        var memberKeys = new OrganizationKeysPage(memberPage, id);
        await memberKeys.GotoAsync();
        var key = await memberKeys.CreateKeyAsync("member laptop", "5");
        var ownerKeys = new OrganizationKeysPage(ownerPage, id);
        await ownerKeys.GotoAsync();
        await ownerKeys.CreateKeyAsync("ci pipeline", "20");

        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var model in new[] { "glm-5", "glm-5", "kimi-k2" })
        {
            using var body = new StringContent($$"""{"model":"{{model}}","max_tokens":32,"messages":[{"role":"user","content":"Hello team"}]}""", Encoding.UTF8, "application/json");
            using var response = await api.PostAsync("/api/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
        }

        // The owner gives the member a daily budget (the form's default period) from the members page.
        await members.GotoAsync();
        await ownerPage.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await ownerPage.GetByRole(AriaRole.Button, new() { Name = $"Budget of {member.Email}" }).ClickAsync();
        var dialog = ownerPage.GetByTestId("member-budget-dialog");
        await dialog.GetByLabel("Budget in USD").FillAsync("10");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();
        await Expect(ownerPage.GetByTestId("member-budget-state")).ToContainTextAsync("of $10.00");

        return (id, Name);
    }
}
