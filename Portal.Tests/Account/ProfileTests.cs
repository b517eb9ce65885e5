using Portal.Account;

namespace Portal.Tests.Account;

public sealed class ProfileTests
{
    private const string Email = "ada@example.com";
    private const string OldPassword = "correct horse battery";
    private const string NewPassword = "staple tuned orbit lantern";

    [Fact]
    public async Task TheProfileShowsTheAccountOfTheSignedInUser()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("someone@example.com", OldPassword);
        var ada = await app.CreateUserAsync(Email, OldPassword);
        using var browser = await app.SignedInBrowserAsync(Email, OldPassword);

        // Found by the id in Identity's cookie (CurrentUser), not by the name or the first account.
        var html = await (await browser.GetAsync("/settings/profile")).Content.ReadAsStringAsync();

        Assert.Contains($"<code data-testid=\"account-id\">{ada.Id}</code>", html);
    }

    [Fact]
    public async Task ChangingThePasswordKeepsThisSessionAndOnlyTheNewPasswordSignsIn()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, OldPassword);
        using var browser = await app.SignedInBrowserAsync(Email, OldPassword);

        var page = await (await browser.ChangePasswordAsync(OldPassword, NewPassword)).PageAsync();

        Assert.Equal(["Your password has been changed. Other signed-in sessions end within a minute."], Html.Successes(page));
        Assert.Empty(Html.Errors(page));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings/profile")).StatusCode);

        using var other = app.CreateBrowser();
        var refused = await (await other.SignInAsync(Email, OldPassword)).PageAsync();
        Assert.Equal(["That email and password don't match an account."], Html.Errors(refused));
        Assert.Equal("/", (await other.SignInAsync(Email, NewPassword)).RedirectTarget());
    }

    [Fact]
    public async Task ChangingThePasswordWithAWrongCurrentPasswordIsRefused()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, OldPassword);
        using var browser = await app.SignedInBrowserAsync(Email, OldPassword);

        var page = await (await browser.ChangePasswordAsync("not my password", NewPassword)).PageAsync();

        Assert.Equal(["Incorrect password."], Html.Errors(page));
        using var other = app.CreateBrowser();
        Assert.Equal("/", (await other.SignInAsync(Email, OldPassword)).RedirectTarget());
    }

    [Fact]
    public async Task ChangingThePasswordSignsOtherSessionsOutAtTheirNextSecurityCheck()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, OldPassword);
        using var elsewhere = await app.SignedInBrowserAsync(Email, OldPassword);
        using var here = await app.SignedInBrowserAsync(Email, OldPassword);

        await (await here.ChangePasswordAsync(OldPassword, NewPassword)).PageAsync();
        app.Time.Advance(AccountExtensions.SecurityCheckInterval + TimeSpan.FromSeconds(1));

        Assert.StartsWith("/login", (await elsewhere.GetAsync("/settings/profile")).RedirectTarget());
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/settings/profile")).StatusCode);
    }
}
