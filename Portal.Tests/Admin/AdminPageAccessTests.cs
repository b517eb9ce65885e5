using Portal.Account;

namespace Portal.Tests.Admin;

public sealed class AdminPageAccessTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task AnAnonymousVisitorIsSentToLogin()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.GetAsync("/admin");

        Assert.Equal("/login?ReturnUrl=%2Fadmin", response.RedirectTarget());
    }

    [Fact]
    public async Task ASignedInUserWhoIsNotAnAdminIsSentToAccessDenied()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("user@example.com", Password);
        using var browser = await app.SignedInBrowserAsync("user@example.com", Password);

        var target = (await browser.GetAsync("/admin")).RedirectTarget();

        Assert.Equal("/access-denied?ReturnUrl=%2Fadmin", target);
        Assert.Contains("You don't have access to that page", Html.Text(await browser.GetPageAsync(target)));
    }

    [Fact]
    public async Task AnAdminSeesTheAdminPage()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("admin@example.com", Password, admin: true);
        using var browser = await app.SignedInBrowserAsync("admin@example.com", Password);

        var page = await browser.GetPageAsync("/admin");

        Assert.Contains("<h1>Admin</h1>", page);
        Assert.Contains("data-testid=\"nav-admin\"", page);
    }

    [Fact]
    public async Task ADemotedAdminLosesTheAdminPageAtTheNextSecurityCheck()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("admin@example.com", Password, admin: true);
        using var browser = await app.SignedInBrowserAsync("admin@example.com", Password);

        Assert.Equal(0, (await app.RunCliAsync("set-role", "--email", "admin@example.com", "--role", "User")).ExitCode);
        // The cookie's security stamp (which a role change renews) is re-checked after this interval.
        app.Time.Advance(AccountExtensions.SecurityCheckInterval + TimeSpan.FromSeconds(1));

        Assert.StartsWith("/access-denied", (await browser.GetAsync("/admin")).RedirectTarget());
    }
}
