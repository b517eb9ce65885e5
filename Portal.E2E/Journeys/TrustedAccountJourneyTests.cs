using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;
using Portal.Tests.Account;
using Portal.Tests.Email;

namespace Portal.E2E.Journeys;

/// <summary>
/// A new account made trustworthy as a person would, in Chromium, on a Portal of its own that requires
/// verified email and mails a real SMTP server: sign up, find keys refused, verify by the mailed link,
/// turn on an authenticator app (codes computed from the key the page shows, as the app would) and a
/// passkey (Chrome DevTools' virtual authenticator), sign out and back in with each, reset a forgotten
/// password from the mail, and get one low-balance email however many replies go below the threshold.
/// Browsed as <c>localhost</c>: WebAuthn refuses an IP address as the site's id.
/// </summary>
public sealed class TrustedAccountJourneyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SmtpTestServer? _smtp;
    private PortalServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private long _lastStep;

    private Uri Site => new($"http://localhost:{_server!.BaseAddress.Port}/");

    public async Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(15_000);
        _smtp = await SmtpTestServer.StartNewAsync();
        _server = PortalServer.Create(new Dictionary<string, string>
        {
            ["Accounts__RequireConfirmedEmail"] = "true",
            ["Email__SmtpHost"] = "127.0.0.1",
            ["Email__SmtpPort"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email__Security"] = "None",
            ["Email__From"] = "Portal <portal@example.test>",
            ["Alerts__LowBalanceCheckSeconds"] = "1",
        });
        await _server.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await PortalFixture.LaunchChromiumAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_smtp is not null)
        {
            await _smtp.DisposeAsync();
        }
    }

    [Fact]
    public async Task ANewAccountVerifiesItsEmailSignsInWithEachFactorResetsItsPasswordAndIsWarnedOnceOfALowBalance()
    {
        var context = await _browser!.NewContextAsync(new() { BaseURL = Site.ToString(), Locale = "en-US", TimezoneId = "UTC" });
        context.SetDefaultTimeout(15_000);
        try
        {
            var page = await context.NewPageAsync();
            var account = Account.New();
            var signup = new SignupPage(page);
            await signup.GotoAsync();
            await signup.CreateAccountAsync(account);
            await Expect(signup.Header.UserEmail).ToHaveTextAsync(account.Email);

            // Unverified: no keys yet. The mailed link verifies.
            var keys = new ApiKeysPage(page);
            await keys.GotoAsync();
            await Expect(page.GetByTestId("verify-email")).ToContainTextAsync("Verify your email address first");
            await Expect(keys.CreateButton).ToHaveCountAsync(0);
            await ScreenshotIfAskedAsync(page, "apikeys-unverified");
            var verify = await MailAsync(account.Email, "Verify your email for Portal");
            var link = SmtpTestServer.LinkIn(verify);
            Assert.Equal(Site.Authority, link.Authority); // the link points at the site the user came from
            await page.GotoAsync(link.ToString());
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Verify your email" }).GetByRole(AriaRole.Status))
                .ToHaveTextAsync("Your email is verified. You can create API keys and use your credits.");
            await ScreenshotIfAskedAsync(page, "email-verified");
            await page.GetByRole(AriaRole.Link, new() { Name = "Create an API key" }).ClickAsync();
            await keys.WaitUntilInteractiveAsync();
            Assert.StartsWith("sk-portal-", await keys.CreateKeyAsync("after verification"));

            // The authenticator app: key from the page, code computed from it.
            await page.GotoAsync("/settings/security");
            await page.GetByRole(AriaRole.Link, new() { Name = "Set up an authenticator app" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of the key for your authenticator app" })).ToBeVisibleAsync();
            var key = await page.GetByTestId("authenticator-key").InnerTextAsync();
            await page.GetByLabel("Code from the app").FillAsync(FreshCode(key));
            await page.GetByRole(AriaRole.Button, new() { Name = "Verify and turn on" }).ClickAsync();
            await Expect(page.GetByTestId("recovery-codes").Locator("li")).ToHaveCountAsync(10);
            await page.GetByRole(AriaRole.Link, new() { Name = "I have saved them" }).ClickAsync();
            await Expect(page.GetByTestId("two-factor-status")).ToHaveTextAsync("On");

            await SignOutAsync(page);
            var login = new LoginPage(page);
            await login.GotoAsync();
            await login.SignInAsync(account);
            await EnterCodeAsync(page, key);
            await Expect(login.Header.UserEmail).ToHaveTextAsync(account.Email);

            // A passkey, made by a virtual authenticator that says the user verified (a fingerprint, say).
            var cdp = await context.NewCDPSessionAsync(page);
            await cdp.SendAsync("WebAuthn.enable");
            await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
            {
                ["options"] = new Dictionary<string, object>
                {
                    ["protocol"] = "ctap2",
                    ["transport"] = "internal",
                    ["hasResidentKey"] = true,
                    ["hasUserVerification"] = true,
                    ["isUserVerified"] = true,
                },
            });
            await page.GotoAsync("/settings/security");
            await page.GetByTestId("add-passkey").ClickAsync();
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Passkeys" }).GetByRole(AriaRole.Status)).ToContainTextAsync("Passkey added as \"Passkey 1\"");
            await Expect(page.GetByTestId("passkeys").Locator("li")).ToHaveCountAsync(1);
            await ScreenshotIfAskedAsync(page, "security-with-passkey");

            await SignOutAsync(page);
            await login.GotoAsync();
            await page.GetByTestId("passkey-sign-in").ClickAsync();
            await Expect(login.Header.UserEmail).ToHaveTextAsync(account.Email);
            await page.GotoAsync("/settings/profile");
            await Expect(page.GetByTestId("security-log")).ToContainTextAsync("Passkey added");

            // The password is forgotten: the mailed link sets a new one, which then signs in (with the app's code).
            await SignOutAsync(page);
            await page.GotoAsync("/forgot-password");
            await page.GetByLabel("Email").FillAsync(account.Email);
            await page.GetByRole(AriaRole.Button, new() { Name = "Send the link" }).ClickAsync();
            var reset = await MailAsync(account.Email, "Reset your Portal password");
            await page.GotoAsync(SmtpTestServer.LinkIn(reset).ToString());
            var renewed = account with { Password = "a brand new passphrase 42" };
            await page.GetByLabel("New password", new() { Exact = true }).FillAsync(renewed.Password);
            await page.GetByLabel("Confirm new password", new() { Exact = true }).FillAsync(renewed.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Set password" })).ToHaveCountAsync(0);
            await login.GotoAsync();
            await login.SignInAsync(account); // the old password no longer works
            await Expect(login.Error).ToBeVisibleAsync();
            await login.SignInAsync(renewed);
            await EnterCodeAsync(page, key);
            await Expect(login.Header.UserEmail).ToHaveTextAsync(account.Email);

            // Credits, a threshold just under them, and two replies in the playground: one email.
            await _server!.RunAdminAsync("grant-credits", "--email", account.Email, "--amount", "2", "--reason", "e2e");
            var profile = new ProfilePage(page);
            await profile.GotoAsync();
            await profile.SetLowBalanceAlertAsync("1.9999");
            await Expect(profile.LowBalanceCard).ToContainTextAsync("$1.9999");
            var playground = new PlaygroundPage(page);
            await playground.GotoAsync();
            await playground.AskAsync("Say hello in five words.");
            await Expect(playground.LastReplyUsage).ToContainTextAsync("$");
            var alert = await MailAsync(account.Email, "Your Portal balance is below $1.9999");
            await ScreenshotIfAskedAsync(page, "playground-after-alert");
            await playground.AskAsync("And once more, in three.");
            await Expect(page.GetByTestId("message-assistant")).ToHaveCountAsync(2);
            await Expect(playground.LastReplyUsage).ToContainTextAsync("$");
            await Task.Delay(TimeSpan.FromSeconds(3)); // three sweeps, each of which would mail a second crossing
            Assert.Single(_smtp!.MessagesTo(account.Email), m => m.Subject == alert.Subject);
        }
        catch
        {
            output.WriteLine(_server!.Output);
            throw;
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>
    /// A code of a 30-second step no earlier sign-in used: the current step's, or the one after the last
    /// used. Identity accepts codes up to two steps either side of now (a phone's clock may be off), so
    /// the journey need not wait for the clock the way a person would.
    /// </summary>
    private string FreshCode(string key)
    {
        var step = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30, _lastStep + 1);
        _lastStep = step;
        return Totp.Code(key, DateTimeOffset.FromUnixTimeSeconds(step * 30));
    }

    private async Task EnterCodeAsync(IPage page, string key)
    {
        await Expect(page).ToHaveURLAsync(new Regex("/login/two-factor"));
        await page.GetByLabel("Authenticator code").FillAsync(FreshCode(key));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }

    /// <summary>With PORTAL_SCREENSHOTS set (the screenshot tools' folder): what this Portal alone shows, in the light theme.</summary>
    private static async Task ScreenshotIfAskedAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("PORTAL_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}-light-1280x720.png"), FullPage = true });
        }
    }

    private static async Task SignOutAsync(IPage page)
    {
        await page.GotoAsync("/logout");
        await page.GetByRole(AriaRole.Region, new() { Name = "Sign out" }).GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(new HomePage(page).Header.SignInLink).ToBeVisibleAsync();
    }

    /// <summary>The one mail with this subject Portal's background sender delivered: it leaves at once, but in another process.</summary>
    private async Task<MimeKit.MimeMessage> MailAsync(string address, string subject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_smtp!.MessagesTo(address).Where(m => m.Subject == subject).ToList() is [var mail])
            {
                return mail;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no mail \"{subject}\" reached {address} within 30 s");
            await Task.Delay(100);
        }
    }
}
