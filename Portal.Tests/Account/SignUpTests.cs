using Microsoft.Extensions.DependencyInjection;

namespace Portal.Tests.Account;

public sealed class SignUpTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task SignUpCreatesTheAccountAndSignsIn()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.SignUpAsync("ada@example.com", Password);

        Assert.Equal("/", response.RedirectTarget());
        Assert.True(browser.HasAuthCookie);
        var profile = Html.Text(await browser.GetPageAsync("/settings/profile"));
        Assert.Contains("Email ada@example.com", profile);

        var user = await app.FindUserAsync("ada@example.com");
        Assert.NotNull(user);
        Assert.Equal(app.Time.GetUtcNow().UtcDateTime, user.CreatedAt);
        Assert.False(await app.IsAdminAsync("ada@example.com"));
    }

    [Fact]
    public async Task SignUpHonoursALocalReturnUrl()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.SignUpAsync("ada@example.com", Password, url: "/signup?returnUrl=%2Fsettings%2Fprofile");

        Assert.Equal("/settings/profile", response.RedirectTarget());
    }

    [Theory]
    [InlineData("short", "short", "Passwords are 10 to 128 characters long.")]
    [InlineData(Password, "correct horse battery!", "The two passwords don't match.")]
    [InlineData(Password, "", "Type the password again.")]
    public async Task SignUpWithAnInvalidFormShowsTheFieldErrorAndCreatesNothing(string password, string confirm, string message)
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignUpAsync("ada@example.com", password, confirm)).PageAsync();

        Assert.Contains(message, Html.ValidationMessages(page));
        Assert.False(browser.HasAuthCookie);
        Assert.Equal(0, app.CountUsers());
    }

    [Fact]
    public async Task AFieldShownAgainWithAnErrorIsMarkedInvalidAndDescribedByItsMessage()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignUpAsync("ada@example.com", "short", "short")).PageAsync();

        // What a screen reader announces on the password box: invalid, and why.
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(page);
        var password = document.QuerySelector("input[name='Input.Password']")!;
        Assert.Equal("password", password.GetAttribute("type"));
        Assert.Equal("Password", document.QuerySelector($"label[for='{password.Id}']")!.TextContent.Trim());
        Assert.Equal("true", password.GetAttribute("aria-invalid"));
        Assert.Equal("Passwords are 10 to 128 characters long.", document.GetElementById(password.GetAttribute("aria-describedby")!)!.TextContent.Trim());
        // The email, which was fine, is kept and not marked.
        var email = document.QuerySelector("input[name='Input.Email']")!;
        Assert.Equal("ada@example.com", email.GetAttribute("value"));
        Assert.Equal("false", email.GetAttribute("aria-invalid"));
    }

    [Fact]
    public async Task SignUpWithTooFewDifferentCharactersShowsThePasswordRuleAndCreatesNothing()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignUpAsync("ada@example.com", "abababababab")).PageAsync();

        Assert.Equal(["Passwords must use at least 4 different characters."], Html.Errors(page));
        Assert.False(browser.HasAuthCookie);
        Assert.Equal(0, app.CountUsers());
    }

    [Fact]
    public async Task SignUpWithATakenEmailIsRefusedWhateverItsCase()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", Password);
        using var browser = app.CreateBrowser();

        var page = await (await browser.SignUpAsync("ADA@example.com", "another good passphrase")).PageAsync();

        var error = Assert.Single(Html.Errors(page));
        Assert.Contains("'ADA@example.com' is already taken.", error);
        Assert.False(browser.HasAuthCookie);
        Assert.Equal(1, app.CountUsers());
    }

    [Fact]
    public async Task WithFirstUserBecomesAdminTheFirstSignUpIsAnAdminAndTheSecondIsNot()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Accounts:FirstUserBecomesAdmin"] = "true" });
        using var first = app.CreateBrowser();
        using var second = app.CreateBrowser();

        Assert.Equal("/", (await first.SignUpAsync("first@example.com", Password)).RedirectTarget());
        Assert.Equal("/", (await second.SignUpAsync("second@example.com", Password)).RedirectTarget());

        Assert.True(await app.IsAdminAsync("first@example.com"));
        Assert.False(await app.IsAdminAsync("second@example.com"));
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/admin")).StatusCode);
        Assert.StartsWith("/access-denied", (await second.GetAsync("/admin")).RedirectTarget());
    }

    [Fact]
    public async Task WithoutFirstUserBecomesAdminTheFirstSignUpIsAnOrdinaryUser()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Accounts:FirstUserBecomesAdmin"] = "false" });
        using var browser = app.CreateBrowser();

        Assert.Equal("/", (await browser.SignUpAsync("first@example.com", Password)).RedirectTarget());

        Assert.False(await app.IsAdminAsync("first@example.com"));
    }

    [Fact]
    public async Task WelcomeCreditsAreGrantedOnSignUpAsALedgerEntry()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Accounts:WelcomeCreditsUsd"] = "2.50" });
        using var browser = app.CreateBrowser();

        Assert.Equal("/", (await browser.SignUpAsync("new@example.com", Password)).RedirectTarget());

        var user = await app.FindUserAsync("new@example.com");
        var summary = await app.Services.GetRequiredService<Portal.Billing.CreditsLedger>().SummaryAsync(user!.Id);
        Assert.Equal((Money.FromUsd(2.50m), Money.FromUsd(2.50m)), (summary.BalanceMicros, summary.TotalGrantedMicros));
    }

    [Fact]
    public async Task WithoutWelcomeCreditsASignUpStartsAtZero()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        await browser.SignUpAsync("new@example.com", Password);

        var user = await app.FindUserAsync("new@example.com");
        Assert.Equal(0, (await app.Services.GetRequiredService<Portal.Billing.CreditsLedger>().SummaryAsync(user!.Id)).BalanceMicros);
    }
}
