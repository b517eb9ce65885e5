using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;
using Portal.Tests.Account;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the second-factor pages in both themes, on a desktop and a phone — the security
/// page before and after, the authenticator set-up, the recovery codes, the code and recovery-code
/// steps of a sign-in. (A passkey needs a host name, not the fixture's 127.0.0.1: TrustedAccountJourneyTests
/// saves the page with one.) <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter TwoFactorScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class TwoFactorScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheSecondFactorPages() => RunAsync(async () =>
    {
        var folder = Folder();
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";
                var account = await Portal.CreateUserAsync();
                var page = await ThemedPageAsync(theme, account, viewport);
                await page.GotoAsync("/settings/security");
                await Expect(page.GetByTestId("two-factor-status")).ToHaveTextAsync("Off");
                await ScreenshotAsync(page, folder, $"security-off-{name}");

                await page.GetByRole(AriaRole.Link, new() { Name = "Set up an authenticator app" }).ClickAsync();
                var key = await page.GetByTestId("authenticator-key").InnerTextAsync();
                await ScreenshotAsync(page, folder, $"authenticator-setup-{name}");
                await page.GetByLabel("Code from the app").FillAsync(Totp.Now(key));
                await page.GetByRole(AriaRole.Button, new() { Name = "Verify and turn on" }).ClickAsync();
                await Expect(page.GetByTestId("recovery-codes").Locator("li")).ToHaveCountAsync(10);
                await ScreenshotAsync(page, folder, $"recovery-codes-{name}");
                await page.GotoAsync("/settings/security");
                await Expect(page.GetByTestId("two-factor-status")).ToHaveTextAsync("On");
                await ScreenshotAsync(page, folder, $"security-on-{name}");

                var visitor = await ThemedPageAsync(theme, null, viewport);
                var login = new LoginPage(visitor);
                await login.GotoAsync();
                await ScreenshotAsync(visitor, folder, $"login-{name}");
                await login.SignInAsync(account);
                await Expect(visitor.GetByLabel("Authenticator code")).ToBeVisibleAsync();
                await ScreenshotAsync(visitor, folder, $"login-two-factor-{name}");
                await visitor.GetByRole(AriaRole.Link, new() { Name = "Use a recovery code" }).ClickAsync();
                await Expect(visitor.GetByRole(AriaRole.Textbox, new() { Name = "Recovery code" })).ToBeVisibleAsync();
                await ScreenshotAsync(visitor, folder, $"login-recovery-code-{name}");
            }
        }
    });
}
