using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed class AdminJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task AdminFollowsTheAdminLinkToTheAccountsGrid() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var login = new LoginPage(page);
        var home = new HomePage(page);
        var admin = new AdminPage(page);

        await login.GotoAsync();
        await login.SignInAsync(Portal.Admin);

        await home.ExpectOpenAsync();
        await home.WaitUntilInteractiveAsync();
        await Expect(home.Header.AdminLink).ToBeVisibleAsync();
        await home.Header.OpenAdminAsync();

        await admin.ExpectOpenAsync();
        await Expect(admin.RowOf(Portal.Admin.Email)).ToContainTextAsync("Admin");
    });

    [Fact]
    public Task UserSeesNoAdminLinkAndIsDeniedTheAdminPage() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var page = await NewPageAsync();
        var login = new LoginPage(page);
        var home = new HomePage(page);
        var denied = new AccessDeniedPage(page);

        await login.GotoAsync();
        await login.SignInAsync(user);

        await home.ExpectOpenAsync();
        await home.WaitUntilInteractiveAsync();
        await Expect(home.Header.UserEmail).ToHaveTextAsync(user.Email);
        await Expect(home.Header.AdminLink).ToHaveCountAsync(0);

        foreach (var path in AdminPaths)
        {
            await page.GotoAsync(path);

            await denied.ExpectOpenAsync();
            await Expect(denied.Heading).ToHaveTextAsync("You don't have access to that page");
        }
    });

    [Fact]
    public Task AdminGrantsCreditsAndTheUsersKeySeesTheNewBalance() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var created = await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "e2e");
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Regex.Match(created, "sk-portal-[0-9A-Za-z]+").Value);
        Assert.Equal(0m, await BalanceAsync(api));

        var admin = new AdminPage(await NewPageAsync(Portal.Admin));
        await admin.GotoAsync();
        await admin.SearchAsync(user.Email);
        await Expect(admin.Rows).ToHaveCountAsync(1);
        await admin.OpenCreditFormAsync(user.Email);
        await admin.FillCreditFormAsync("12.50", "E2E welcome credits");
        await admin.SubmitCreditFormAsync();
        // Money moves only once the exact amount is confirmed.
        await Expect(admin.Confirmation).ToContainTextAsync($"Give $12.50 to {user.Email}");
        await admin.AnswerAsync("Grant $12.50");

        await Expect(admin.Snackbar).ToContainTextAsync($"Granted $12.50 to {user.Email}. Their balance is now $12.50.");
        await Expect(admin.RowOf(user.Email)).ToContainTextAsync("$12.50");
        Assert.Equal(12.5m, await BalanceAsync(api));

        // A deduction larger than the balance is refused on the form, and nothing moves.
        await admin.OpenCreditFormAsync(user.Email);
        await admin.FillCreditFormAsync("20", "too much", deduct: true);
        await admin.SubmitCreditFormAsync(deduct: true);
        await admin.AnswerAsync("Deduct $20.00");
        await Expect(admin.CreditFormError).ToContainTextAsync("less than the $20.00 you asked to deduct. Nothing was deducted.");
        Assert.Equal(12.5m, await BalanceAsync(api));

        // Cancelling the question moves nothing either.
        await admin.FillCreditFormAsync("5", "changed my mind", deduct: true);
        await admin.SubmitCreditFormAsync(deduct: true);
        await admin.AnswerAsync("Cancel");
        Assert.Equal(12.5m, await BalanceAsync(api));
    });

    [Fact]
    public Task AdminMakesAUserAnAdminAfterConfirmingAndFindsItInTheAuditLog() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var admin = new AdminPage(await NewPageAsync(Portal.Admin));
        await admin.GotoAsync();
        await admin.SearchAsync(user.Email);
        await Expect(admin.Rows).ToHaveCountAsync(1);
        await Expect(admin.RowOf(user.Email)).ToContainTextAsync("User");

        await admin.MakeAdminAsync(user.Email);
        await Expect(admin.Confirmation).ToContainTextAsync($"Make {user.Email} an admin?");
        await admin.AnswerAsync("Make admin");

        await Expect(admin.Snackbar).ToContainTextAsync($"{user.Email} is now an admin.");
        await Expect(admin.RowOf(user.Email)).ToContainTextAsync("Admin");

        var audit = new AdminAuditPage(admin.Page);
        await audit.GotoAsync();
        await audit.FilterAsync("role.set");
        await Expect(audit.Entries.Filter(new() { HasText = $"user:{user.Email}" })).ToHaveCountAsync(1);
        await Expect(audit.Entries.Filter(new() { HasText = "credits.grant" })).ToHaveCountAsync(0);
    });

    private static readonly string[] AdminPaths = ["/admin", "/admin/models", "/admin/upstreams", "/admin/service", "/admin/audit"];

    private static async Task<decimal> BalanceAsync(HttpClient api)
    {
        using var response = await api.GetAsync("/api/v1/credits");
        Assert.True(response.IsSuccessStatusCode, $"GET /api/v1/credits answered {(int)response.StatusCode}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("data").GetProperty("balance").GetDecimal();
    }
}
