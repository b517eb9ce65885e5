using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the profile's low-balance alert and webhook cards (set, refused, the secret shown
/// once) in both themes, on a desktop and a phone.
/// <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter AlertsScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AlertsScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheAlertSettings() => RunAsync(async () =>
    {
        var folder = Folder();
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";
                var account = Account.New();
                var page = await ThemedPageAsync(theme, null, viewport);
                var signup = new SignupPage(page);
                await signup.GotoAsync();
                await signup.CreateAccountAsync(account);
                await new HomePage(page).ExpectOpenAsync();
                var profile = new ProfilePage(page);
                await profile.GotoAsync();

                await profile.SetLowBalanceAlertAsync("-3");
                await Expect(profile.LowBalanceCard.GetByRole(AriaRole.Alert)).ToContainTextAsync("more than $0");
                await profile.LowBalanceCard.ScrollIntoViewIfNeededAsync();
                await ScreenshotAsync(page, folder, $"alerts-threshold-error-{name}");

                await profile.SetLowBalanceAlertAsync("5");
                await Expect(profile.LowBalanceCard.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");
                await profile.SetWebhookAsync("https://93.184.215.14/portal-events");
                await Expect(page.GetByTestId("webhook-secret")).ToBeVisibleAsync();
                await profile.WebhookCard.ScrollIntoViewIfNeededAsync();
                await ScreenshotAsync(page, folder, $"alerts-webhook-saved-{name}");

                await profile.SetWebhookAsync("https://127.0.0.1/hook");
                await Expect(profile.WebhookCard.GetByRole(AriaRole.Alert)).ToContainTextAsync("public addresses only");
                await profile.WebhookCard.ScrollIntoViewIfNeededAsync();
                await ScreenshotAsync(page, folder, $"alerts-webhook-refused-{name}");
            }
        }
    });
}
