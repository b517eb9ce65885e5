using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;
using Portal.Tests.Account;

namespace Portal.E2E.Journeys;

/// <summary>
/// Second factors as a person meets them, in Chromium: turn on an authenticator app (the code computed
/// from the key the page shows, as the app would), sign in with password and code; add a passkey with
/// a virtual authenticator (Chrome DevTools' WebAuthn domain), sign in with it and no password.
/// A Portal of its own, browsed as <c>localhost</c>: WebAuthn refuses an IP address as the site's id.
/// </summary>
public sealed class TwoFactorJourneyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PortalServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    private Uri Site => new($"http://localhost:{_server!.BaseAddress.Port}/");

    public async Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(15_000);
        _server = PortalServer.Create();
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
    }

    [Fact]
    public async Task ANewAccountTurnsOnTheAuthenticatorAddsAPasskeyAndSignsInWithEach()
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

            // The authenticator app: key from the page, code computed from it.
            await page.GotoAsync("/settings/security");
            await page.GetByRole(AriaRole.Link, new() { Name = "Set up an authenticator app" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code of the key for your authenticator app" })).ToBeVisibleAsync();
            var key = await page.GetByTestId("authenticator-key").InnerTextAsync();
            await page.GetByLabel("Code from the app").FillAsync(Totp.Now(key));
            await page.GetByRole(AriaRole.Button, new() { Name = "Verify and turn on" }).ClickAsync();
            await Expect(page.GetByTestId("recovery-codes").Locator("li")).ToHaveCountAsync(10);
            await page.GetByRole(AriaRole.Link, new() { Name = "I have saved them" }).ClickAsync();
            await Expect(page.GetByTestId("two-factor-status")).ToHaveTextAsync("On");

            await SignOutAsync(page);
            var login = new LoginPage(page);
            await login.GotoAsync();
            await login.SignInAsync(account);
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login/two-factor"));
            await page.GetByLabel("Authenticator code").FillAsync(Totp.Now(key));
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
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
}
