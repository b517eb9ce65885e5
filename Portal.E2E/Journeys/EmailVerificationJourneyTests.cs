using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;
using Portal.Tests.Email;

namespace Portal.E2E.Journeys;

/// <summary>
/// Email verification as a person meets it, on a Portal of its own that requires it and sends mail
/// to a real SMTP server: sign up, find keys refused, open the mail, follow its link, create a key.
/// </summary>
public sealed class EmailVerificationJourneyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SmtpTestServer? _smtp;
    private PortalServer? _server;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

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
    public async Task ANewAccountVerifiesItsEmailFromTheMailThenCreatesAKey()
    {
        var context = await _browser!.NewContextAsync(new() { BaseURL = _server!.BaseAddress.ToString(), Locale = "en-US", TimezoneId = "UTC" });
        context.SetDefaultTimeout(15_000);
        try
        {
            var page = await context.NewPageAsync();
            var account = Account.New();
            var signup = new SignupPage(page);
            await signup.GotoAsync();
            await signup.CreateAccountAsync(account);
            await Expect(signup.Header.UserEmail).ToHaveTextAsync(account.Email);

            var keys = new ApiKeysPage(page);
            await keys.GotoAsync();
            await Expect(page.GetByTestId("verify-email")).ToContainTextAsync("Verify your email address first");
            await Expect(keys.CreateButton).ToHaveCountAsync(0);
            await ScreenshotIfAskedAsync(page, "apikeys-unverified");

            var mail = await MailToAsync(account.Email);
            Assert.Equal("Verify your email for Portal", mail.Subject);
            var link = SmtpTestServer.LinkIn(mail);
            Assert.Equal(_server.BaseAddress.Authority, link.Authority); // the link points at the site the user came from
            await page.GotoAsync(link.ToString());
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Verify your email" }).GetByRole(AriaRole.Status)).ToHaveTextAsync("Your email is verified. You can create API keys and use your credits.");
            await ScreenshotIfAskedAsync(page, "email-verified");

            await page.GetByRole(AriaRole.Link, new() { Name = "Create an API key" }).ClickAsync();
            await keys.WaitUntilInteractiveAsync();
            await Expect(page.GetByTestId("verify-email")).ToHaveCountAsync(0);
            Assert.StartsWith("sk-portal-", await keys.CreateKeyAsync("after verification"));
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

    /// <summary>The mail Portal's background sender delivered: it leaves at once, but in another process.</summary>
    private async Task<MimeKit.MimeMessage> MailToAsync(string address)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_smtp!.MessagesTo(address) is [var mail])
            {
                return mail;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no mail reached {address} within 30 s");
            await Task.Delay(100);
        }
    }
}
