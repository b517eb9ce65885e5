using Portal.Audit;
using Portal.Tests.Admin;
using static Portal.Tests.Account.TwoFactorSteps;

namespace Portal.Tests.Account;

/// <summary>
/// Two-factor sign-in with an authenticator app: turned on with a code the test computes from the key
/// the page shows (as an app would), then asked for after the password; recovery codes; remembering a
/// browser; turning it off; Identity's lockout for wrong codes; the security log.
/// </summary>
public sealed class TwoFactorTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";
    private const string CodeStep = "/login/two-factor?ReturnUrl=%2F&RememberMe=false";

    [Fact]
    public async Task TurningOnTheAuthenticatorWithItsCodeShowsTenRecoveryCodesOnce()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var setUp = await browser.GetPageAsync(AuthenticatorPage);
        Assert.Matches("<img src=\"data:image/svg&#x2B;xml;base64,[^\"]+\" alt=\"QR code of the key for your authenticator app\"", setUp);
        var (key, codes) = await EnableAsync(browser);

        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());
        var security = await browser.GetPageAsync(SecurityPage);
        Assert.Contains("<dd data-testid=\"two-factor-status\">On</dd>", security);
        Assert.Contains("<dd data-testid=\"recovery-codes-left\">10</dd>", security);
        Assert.Empty(RecoveryCodes(security));
        Assert.DoesNotContain(codes[0], security);
        Assert.True((await app.FindUserAsync(Email))!.TwoFactorEnabled);
    }

    [Fact]
    public async Task AWrongSetUpCodeLeavesTwoFactorSignInOff()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var key = await ReadKeyAsync(browser);
        var page = await (await SubmitSetUpCodeAsync(browser, Totp.Wrong(key))).PageAsync();

        Assert.Equal(["That code is not right. Check that the app shows Portal's code and your phone's clock is set automatically."], Html.Errors(page));
        Assert.Empty(RecoveryCodes(page));
        Assert.False((await app.FindUserAsync(Email))!.TwoFactorEnabled);
        // The key stays while the set-up is unfinished, so a second try works with the same app entry.
        Assert.Equal(key, await ReadKeyAsync(browser));
    }

    [Fact]
    public async Task SignInAsksForTheCodeAfterThePasswordAndSucceedsWithIt()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        string key;
        using (var setUp = await app.SignedInBrowserAsync(Email, Password))
        {
            (key, _) = await EnableAsync(setUp);
        }

        using var browser = app.CreateBrowser();
        var step = (await browser.SignInAsync(Email, Password)).RedirectTarget();

        Assert.Equal(CodeStep, step);
        Assert.False(browser.HasAuthCookie);
        Assert.StartsWith("/login", (await browser.GetAsync("/settings/profile")).RedirectTarget());
        Assert.Equal("/", (await SubmitCodeAsync(browser, step, Totp.Now(key))).RedirectTarget());
        Assert.True(browser.HasAuthCookie);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings/profile")).StatusCode);
    }

    [Fact]
    public async Task WrongCodesAreRefusedAndFiveLockTheAccountLikeWrongPasswords()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        string key;
        using (var setUp = await app.SignedInBrowserAsync(Email, Password))
        {
            (key, _) = await EnableAsync(setUp);
        }

        using var browser = app.CreateBrowser();
        var step = (await browser.SignInAsync(Email, Password)).RedirectTarget();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var page = await (await SubmitCodeAsync(browser, step, Totp.Wrong(key))).PageAsync();
            Assert.Equal(["That code is not right. Check your app's clock and enter the newest code."], Html.Errors(page));
        }

        var fifth = await (await SubmitCodeAsync(browser, step, Totp.Wrong(key))).PageAsync();
        var rightCode = await (await SubmitCodeAsync(browser, step, Totp.Now(key))).PageAsync();

        Assert.Equal(["Too many failed attempts. This account is locked for 15 minutes; try again later."], Html.Errors(fifth));
        Assert.Equal(["Too many failed attempts. This account is locked for 15 minutes; try again later."], Html.Errors(rightCode));
        Assert.False(browser.HasAuthCookie);
    }

    [Fact]
    public async Task ARecoveryCodeSignsInOnceOnly()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        IReadOnlyList<string> codes;
        using (var setUp = await app.SignedInBrowserAsync(Email, Password))
        {
            (_, codes) = await EnableAsync(setUp);
        }

        using var first = app.CreateBrowser();
        var step = (await first.SignInAsync(Email, Password)).RedirectTarget();
        Assert.Equal("/", (await SubmitRecoveryCodeAsync(first, step, codes[3])).RedirectTarget());
        Assert.Contains("<dd data-testid=\"recovery-codes-left\">9</dd>", await first.GetPageAsync(SecurityPage));

        using var second = app.CreateBrowser();
        step = (await second.SignInAsync(Email, Password)).RedirectTarget();
        var again = await (await SubmitRecoveryCodeAsync(second, step, codes[3])).PageAsync();

        Assert.Equal(["That recovery code is not right, or it has been used already."], Html.Errors(again));
        Assert.False(second.HasAuthCookie);
        Assert.Equal("/", (await SubmitRecoveryCodeAsync(second, step, codes[4])).RedirectTarget());
    }

    [Fact]
    public async Task ARememberedBrowserIsNotAskedForTheCodeAgainAndOtherBrowsersAre()
    {
        await using var app = new PortalApplication();
        // The remembering cookie is persistent, and the test's cookie jar expires cookies by the real
        // clock: bring the app's clock to the real now, or the jar drops a cookie dated 14 days after it.
        app.Time.Advance(DateTimeOffset.UtcNow - app.Time.GetUtcNow());
        await app.CreateUserAsync(Email, Password);
        string key;
        using (var setUp = await app.SignedInBrowserAsync(Email, Password))
        {
            (key, _) = await EnableAsync(setUp);
        }

        using var browser = app.CreateBrowser();
        var step = (await browser.SignInAsync(Email, Password)).RedirectTarget();
        Assert.Equal("/", (await SubmitCodeAsync(browser, step, Totp.Now(key), rememberBrowser: true)).RedirectTarget());
        Assert.Contains("Ask for a code on this browser again", await browser.GetPageAsync(SecurityPage));
        await browser.SignOutAsync();
        Assert.False(browser.HasAuthCookie);

        Assert.Equal("/", (await browser.SignInAsync(Email, Password)).RedirectTarget());
        Assert.True(browser.HasAuthCookie);
        using var other = app.CreateBrowser();
        Assert.Equal(CodeStep, (await other.SignInAsync(Email, Password)).RedirectTarget());
    }

    [Fact]
    public async Task MakingNewRecoveryCodesRetiresTheOldOnes()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        var (_, old) = await EnableAsync(browser);

        var page = await (await browser.SubmitFormAsync(SecurityPage, "regenerate-recovery-codes", new Dictionary<string, string>())).PageAsync();
        var fresh = RecoveryCodes(page);

        Assert.Equal(10, fresh.Count);
        Assert.Empty(fresh.Intersect(old));
        using var other = app.CreateBrowser();
        var step = (await other.SignInAsync(Email, Password)).RedirectTarget();
        Assert.Equal(["That recovery code is not right, or it has been used already."], Html.Errors(await (await SubmitRecoveryCodeAsync(other, step, old[0])).PageAsync()));
        Assert.Equal("/", (await SubmitRecoveryCodeAsync(other, step, fresh[0])).RedirectTarget());
    }

    [Fact]
    public async Task TurningItOffNeedsThePasswordAndThenThePasswordAloneSignsIn()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        await EnableAsync(browser);

        var refused = await (await browser.SubmitFormAsync(SecurityPage, "disable-two-factor", new Dictionary<string, string> { ["DisableInput.Password"] = "not my password" })).PageAsync();
        Assert.Equal(["That is not your current password. Two-factor sign-in stays on."], Html.Errors(refused));
        Assert.True((await app.FindUserAsync(Email))!.TwoFactorEnabled);

        var done = await (await browser.SubmitFormAsync(SecurityPage, "disable-two-factor", new Dictionary<string, string> { ["DisableInput.Password"] = Password })).PageAsync();
        Assert.Equal(["Two-factor sign-in is off."], Html.Successes(done));
        Assert.Contains("<dd data-testid=\"two-factor-status\">Off</dd>", done);
        using var other = app.CreateBrowser();
        Assert.Equal("/", (await other.SignInAsync(Email, Password)).RedirectTarget());
    }

    [Theory]
    [InlineData(CodeStep)]
    [InlineData("/login/two-factor?RememberMe=not-a-bool&ReturnUrl=%2F")] // a hand-edited address explains, it does not fail
    [InlineData("/login/recovery-code?RememberMe=1")]
    public async Task TheSecondStepWithoutThePasswordStepSignsNobodyIn(string url)
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var page = await browser.GetPageAsync(url);

        Assert.Equal(["Your sign-in took too long and has timed out. Sign in with your password again."], Html.Errors(page));
        Assert.DoesNotContain("value=\"login-", page); // no form to post a code with
    }

    [Fact]
    public async Task FactorChangesAndTwoFactorSignInsAreInTheSecurityLogAndTheAuditLog()
    {
        await using var app = new PortalApplication { RemoteIp = IPAddress.Parse("203.0.113.9") };
        var ada = await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        var (key, codes) = await EnableAsync(browser);
        await browser.SubmitFormAsync(SecurityPage, "regenerate-recovery-codes", new Dictionary<string, string>());
        using var other = app.CreateBrowser();
        var step = (await other.SignInAsync(Email, Password)).RedirectTarget();
        await SubmitCodeAsync(other, step, Totp.Wrong(key));
        await SubmitCodeAsync(other, step, Totp.Now(key));
        await browser.SubmitFormAsync(SecurityPage, "disable-two-factor", new Dictionary<string, string> { ["DisableInput.Password"] = Password });

        var entries = (await app.Service<AuditLog>().PageAsync(0, 50, oldestFirst: true)).Entries;
        Assert.Equal(
            [
                (AuditActions.SignIn, Email),
                (AuditActions.TwoFactorEnable, Email),
                (AuditActions.RecoveryCodesRegenerate, Email),
                (AuditActions.SignInFailed, "anonymous"),
                (AuditActions.SignIn, Email),
                (AuditActions.TwoFactorDisable, Email),
            ],
            entries.Select(e => (e.Action, e.Actor)));
        Assert.All(entries, e => Assert.Equal($"account:{ada.Id}", e.Target));
        Assert.Contains("wrong code", entries[3].Details);
        Assert.Contains("authenticator", entries[4].Details);
        Assert.DoesNotContain(entries, e => e.Details.Contains(key) || codes.Any(e.Details.Contains));

        var profile = Html.Text(await browser.GetPageAsync("/settings/profile"));
        Assert.Contains("Two-factor sign-in turned on", profile);
        Assert.Contains("New recovery codes", profile);
        Assert.Contains("Two-factor sign-in turned off", profile);
    }
}
