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

        await page.GotoAsync(new AdminPage(page).PagePath);

        await denied.ExpectOpenAsync();
        await Expect(denied.Heading).ToHaveTextAsync("You don't have access to that page");
    });
}
