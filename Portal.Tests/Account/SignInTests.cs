namespace Portal.Tests.Account;

public sealed class SignInTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";
    private const string Mismatch = "That email and password don't match an account.";
    private const string LockedOut = "Too many failed attempts. This account is locked for 15 minutes; try again later.";

    [Fact]
    public async Task SignInWithTheRightPasswordSetsTheAuthCookieAndOpensTheProfile()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        var response = await browser.SignInAsync(Email, Password);

        Assert.Equal("/", response.RedirectTarget());
        Assert.True(browser.HasAuthCookie);
        Assert.Contains($"Email {Email}", Html.Text(await browser.GetPageAsync("/settings/profile")));
    }

    [Fact]
    public async Task SignInWithAWrongPasswordShowsAnErrorAndDoesNotSignIn()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignInAsync(Email, "not the password")).PageAsync();

        Assert.Equal([Mismatch], Html.Errors(page));
        Assert.False(browser.HasAuthCookie);
        Assert.StartsWith("/login", (await browser.GetAsync("/settings/profile")).RedirectTarget());
    }

    [Fact]
    public async Task SignInWithAnUnknownEmailGivesTheSameErrorAsAWrongPassword()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignInAsync("nobody@example.com", Password)).PageAsync();

        Assert.Equal([Mismatch], Html.Errors(page));
        Assert.False(browser.HasAuthCookie);
    }

    [Fact]
    public async Task FiveWrongPasswordsLockTheAccountSoEvenTheRightOneIsRefused()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var page = await (await browser.SignInAsync(Email, $"wrong password {attempt}")).PageAsync();
            Assert.Equal([Mismatch], Html.Errors(page));
        }

        var fifth = await (await browser.SignInAsync(Email, "wrong password 5")).PageAsync();
        Assert.Equal([LockedOut], Html.Errors(fifth));

        var rightPassword = await (await browser.SignInAsync(Email, Password)).PageAsync();
        Assert.Equal([LockedOut], Html.Errors(rightPassword));
        Assert.False(browser.HasAuthCookie);
    }

    [Fact]
    public async Task FourWrongPasswordsDoNotLockTheAccount()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await (await browser.SignInAsync(Email, $"wrong password {attempt}")).PageAsync();
        }

        Assert.Equal("/", (await browser.SignInAsync(Email, Password)).RedirectTarget());
        Assert.True(browser.HasAuthCookie);
    }

    [Theory]
    [InlineData("/logout")]       // the sign-out page
    [InlineData("/")]             // the header's sign-out button, on any page
    public async Task SigningOutEndsTheSession(string page)
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var response = await browser.SubmitFormAsync(page, "logout", new Dictionary<string, string>());

        Assert.Equal("/", response.RedirectTarget());
        Assert.False(browser.HasAuthCookie);
        Assert.Equal("/login?ReturnUrl=%2Fsettings%2Fprofile", (await browser.GetAsync("/settings/profile")).RedirectTarget());
    }

    [Fact]
    public async Task AnAnonymousVisitorToTheProfileIsSentToLoginAndBackAfterwards()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        var loginUrl = (await browser.GetAsync("/settings/profile")).RedirectTarget();
        var response = await browser.SignInAsync(Email, Password, loginUrl);

        Assert.Equal("/login?ReturnUrl=%2Fsettings%2Fprofile", loginUrl);
        Assert.Equal("/settings/profile", response.RedirectTarget());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("evil.example")]
    public async Task SignInNeverRedirectsOffSite(string returnUrl)
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();

        var response = await browser.SignInAsync(Email, Password, $"/login?returnUrl={Uri.EscapeDataString(returnUrl)}");

        Assert.Equal("/", response.RedirectTarget());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("//evil.example")]
    public async Task SignUpNeverRedirectsOffSite(string returnUrl)
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.SignUpAsync(Email, Password, url: $"/signup?returnUrl={Uri.EscapeDataString(returnUrl)}");

        Assert.Equal("/", response.RedirectTarget());
    }

    [Fact]
    public async Task ASessionSlidesWhileUsedAndEndsAfterFourteenDaysUnused()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        app.Time.Advance(TimeSpan.FromDays(13));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings/profile")).StatusCode);

        // The visit above renewed the sliding session: 13 more days are still inside it, 15 are not.
        app.Time.Advance(TimeSpan.FromDays(13));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings/profile")).StatusCode);
        app.Time.Advance(TimeSpan.FromDays(15));
        Assert.StartsWith("/login", (await browser.GetAsync("/settings/profile")).RedirectTarget());
    }
}
