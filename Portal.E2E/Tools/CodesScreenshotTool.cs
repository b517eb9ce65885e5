using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the admin's batch of redemption codes (bad input, ready to download, the list),
/// the dashboard's "Redeem a code" card (redeemed, then the same code again) and the key form's budget
/// (bad input, then the key list with its budget), in both themes, on a desktop and a phone.
/// <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter CodesScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class CodesScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfCodesAndBudgets() => RunAsync(async () =>
    {
        var folder = Folder();
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";

                var admin = await ThemedPageAsync(theme, Portal.Admin, viewport);
                await GotoInteractiveAsync(admin, "/admin/codes");
                await admin.Locator("#codes-value").FillAsync("-5");
                await admin.GetByTestId("codes-generate").ClickAsync();
                await Expect(admin.Locator("#codes-value-error")).ToBeVisibleAsync();
                await ScreenshotAsync(admin, folder, $"codes-admin-errors-{name}");
                await admin.Locator("#codes-value").FillAsync("5");
                await admin.Locator("#codes-count").FillAsync("25");
                await admin.Locator("#codes-expiry").FillAsync("90");
                await admin.Locator("#codes-note").FillAsync("Meetup Lisbon, December");
                await admin.GetByTestId("codes-generate").ClickAsync();
                await Expect(admin.GetByTestId("codes-ready")).ToBeVisibleAsync();
                await ScreenshotAsync(admin, folder, $"codes-admin-ready-{name}");
                await admin.RunAndWaitForDownloadAsync(() => admin.GetByTestId("codes-download").ClickAsync());
                await Expect(admin.GetByTestId("codes-ready")).ToHaveCountAsync(0);
                await ScreenshotAsync(admin, folder, $"codes-admin-list-{name}");

                var user = await Portal.CreateUserAsync();
                var csv = await Portal.Server.RunAdminAsync("generate-codes", "--amount", "10", "--count", "1", "--note", "screenshots");
                var code = Regex.Match(csv, @"PORTAL(-[0-9A-Z]{5}){4}").Value;
                var page = await ThemedPageAsync(theme, user, viewport);
                await GotoInteractiveAsync(page, "/dashboard");
                await page.GetByTestId("redeem-input").FillAsync(code);
                await page.GetByTestId("redeem-submit").ClickAsync();
                await Expect(page.GetByTestId("redeem-message")).ToContainTextAsync("$10.00 was added");
                await page.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await page.GetByTestId("redeem-card").ScrollIntoViewIfNeededAsync();
                await ScreenshotAsync(page, folder, $"codes-redeemed-{name}");
                await page.GetByTestId("redeem-input").FillAsync(code);
                await page.GetByTestId("redeem-submit").ClickAsync();
                await Expect(page.GetByTestId("redeem-message")).ToContainTextAsync("already been redeemed");
                await page.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
                await page.GetByTestId("redeem-message").ScrollIntoViewIfNeededAsync();
                await ScreenshotAsync(page, folder, $"codes-redeem-used-{name}", fullPage: false);

                await GotoInteractiveAsync(page, "/settings/apikeys");
                await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).First.ClickAsync();
                await page.Locator("#key-name").FillAsync("budgeted");
                await page.Locator("#key-budget").FillAsync("lots");
                await page.Locator("#key-budget").BlurAsync();
                await page.GetByTestId("create-key-form").GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
                await Expect(page.GetByTestId("create-key-form")).ToContainTextAsync("Enter an amount in US dollars");
                await ScreenshotAsync(page, folder, $"keys-budget-error-{name}");
                await page.Locator("#key-budget").FillAsync("5");
                await page.GetByTestId("create-key-form").GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
                await Expect(page.GetByTestId("key-budget").First).ToContainTextAsync("of $5.00 today");
                await ScreenshotAsync(page, folder, $"keys-budget-list-{name}");
                await page.GetByRole(AriaRole.Button, new() { Name = "Budget of budgeted" }).ClickAsync();
                await page.Locator("#key-budget-edit-zone").FillAsync("Mars/Olympus");
                await page.GetByTestId("budget-editor").GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();
                await Expect(page.GetByTestId("budget-dialog")).ToContainTextAsync("time zone");
                await ScreenshotAsync(page, folder, $"keys-budget-dialog-{name}", fullPage: false);
                await page.Keyboard.PressAsync("Escape");
            }
        }
    });

    /// <summary>Opens <paramref name="path"/> and waits for its circuit, so typing and clicking reach the server.</summary>
    private static async Task GotoInteractiveAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }
}
