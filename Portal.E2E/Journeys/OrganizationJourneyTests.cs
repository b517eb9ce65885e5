using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

/// <summary>
/// Issue 17's "done when": an owner creates an organization and invites a member by email (read from the
/// outbox's .eml files); the member signs up, verifies and accepts; an admin grants the organization
/// credits; the member's organization key spends them; the owner sees the member's spend on the
/// organization's dashboard; the key's monthly budget stops it with a 402 naming the budget and its reset.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class OrganizationJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task AnOwnersTeamSpendsSharedCreditUntilAMonthlyBudgetStopsTheKey() => RunAsync(async () =>
    {
        var owner = Account.New("owner");
        var member = Account.New("member");
        var name = $"Team {Guid.NewGuid():N}"[..13];

        // The owner signs up and creates the organization from the header's context switch.
        var ownerPage = await NewPageAsync();
        var signup = new SignupPage(ownerPage);
        await signup.GotoAsync();
        await signup.CreateAccountAsync(owner);
        await new HomePage(ownerPage).ExpectOpenAsync();
        await new HomePage(ownerPage).WaitUntilInteractiveAsync();
        await new Pages.Header(ownerPage).SwitchContextAsync("Create organization");
        var id = await new CreateOrganizationPage(ownerPage).CreateAsync(name);
        await Expect(new Pages.Header(ownerPage).Context).ToHaveTextAsync(name);
        await Expect(ownerPage.GetByTestId("nav-keys").Filter(new() { Visible = true })).ToHaveAttributeAsync("href", $"/orgs/{id}/keys");

        var members = new OrganizationMembersPage(ownerPage, id);
        await members.GotoAsync();
        await members.InviteAsync(member.Email);
        await Expect(members.InviteResult).ToContainTextAsync($"Invited {member.Email} as member");
        await Expect(members.InvitationTo(member.Email)).ToBeVisibleAsync();

        // The member signs up, verifies the address and accepts, with the links the outbox wrote.
        var memberPage = await NewPageAsync();
        signup = new SignupPage(memberPage);
        await signup.GotoAsync();
        await signup.CreateAccountAsync(member);
        await new HomePage(memberPage).ExpectOpenAsync();
        await memberPage.GotoAsync(await Outbox.LinkInMailAsync(Portal.Server, member.Email, "Verify your email for Portal"));
        await Expect(memberPage.GetByText("Your email is verified.")).ToBeVisibleAsync();
        await memberPage.GotoAsync(await Outbox.LinkInMailAsync(Portal.Server, member.Email, $"You are invited to {name} on Portal"));
        await memberPage.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await memberPage.GetByTestId("accept-invitation").ClickAsync();
        await Expect(memberPage.GetByTestId("accept-outcome")).ToHaveTextAsync("You joined the organization.");

        // An admin grants the organization credits.
        var adminPage = await NewPageAsync(Portal.Admin);
        var admin = new AdminOrganizationsPage(adminPage);
        await admin.GotoAsync();
        await admin.GrantAsync(name, "5", "team pilot");
        await Expect(admin.Snackbar).ToContainTextAsync($"Granted $5.00 to {name}");

        // The member makes an organization key with a monthly budget of one cent and spends with it.
        var keys = new OrganizationKeysPage(memberPage, id);
        await keys.GotoAsync();
        await Expect(keys.Name).ToHaveTextAsync(name);
        var key = await keys.CreateKeyAsync("member key", "0.01");
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using (var ok = await ChatAsync(api, maxTokens: 50))
        {
            Assert.True(ok.StatusCode == HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
        }

        // The owner sees the member's spend on the organization's dashboard, and its balance less by it.
        var dashboard = new OrganizationDashboardPage(ownerPage, id);
        await dashboard.GotoAsync();
        await Expect(dashboard.MemberSpend).ToContainTextAsync(member.Email);
        await Expect(dashboard.SpendOf(member.Email)).Not.ToHaveTextAsync("$0.00");
        await Expect(dashboard.Balance).Not.ToHaveTextAsync("$5.00");

        // A request whose worst case (the default max_tokens) is more than the budget has left: 402, saying which limit and when it resets.
        using var refused = await ChatAsync(api, maxTokens: null);
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
        var message = error["message"]!.GetValue<string>();
        var now = DateTime.UtcNow;
        var reset = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        Assert.Contains("monthly budget of $0.01", message);
        Assert.Contains($"until {reset.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}", message);
    });

    private static Task<HttpResponseMessage> ChatAsync(HttpClient api, int? maxTokens)
    {
        var body = maxTokens is { } max
            ? $$"""{"model":"glm-5","max_tokens":{{max}},"messages":[{"role":"user","content":"hello team"}]}"""
            : """{"model":"glm-5","messages":[{"role":"user","content":"hello team"}]}""";
        return api.PostAsync("/api/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
    }
}
