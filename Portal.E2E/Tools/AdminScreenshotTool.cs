using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the admin pages in the light and the dark theme, on a desktop and a phone, with
/// their confirmations open. <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter AdminScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AdminScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfTheAdminPages() => RunAsync(async () =>
    {
        var folder = Folder();
        var user = await Portal.CreateUserAsync();
        await WithRefusingUpstreamAsync(async upstreamId =>
        {
            await MakeSomeUsageAsync(user);
            await SaveAllAsync(folder, user, upstreamId);
        });
    });

    private async Task SaveAllAsync(string folder, Account user, int upstreamId)
    {
        foreach (var theme in Themes)
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";
                var page = await ThemedPageAsync(theme, Portal.Admin, viewport);

                var users = new AdminPage(page);
                await users.GotoAsync();
                await Expect(users.RowOf(user.Email)).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-users-{name}");
                await users.OpenCreditFormAsync(user.Email);
                await users.FillCreditFormAsync("-3", "");
                await users.SubmitCreditFormAsync();
                await Expect(page.Locator("#credit-amount-error")).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-credits-errors-{name}");
                await users.FillCreditFormAsync("2.50", "screenshots");
                await users.SubmitCreditFormAsync();
                await Expect(users.Confirmation).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-credits-confirm-{name}", fullPage: false);
                await users.AnswerAsync("Cancel");

                var models = new AdminModelsPage(page);
                await models.GotoAsync();
                await Expect(models.RowOf("glm-5")).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-models-{name}");
                await models.EditAsync("glm-5");
                await Expect(models.Editor).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-models-edit-{name}");

                var upstreams = new AdminUpstreamsPage(page, "kimi-k2");
                await upstreams.GotoAsync();
                await upstreams.TestConnectionAsync(upstreamId);
                await Expect(upstreams.TestResult(upstreamId)).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-upstreams-{name}");
                await upstreams.EditAsync(upstreamId);
                await Expect(upstreams.TimeoutHint).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-upstreams-edit-{name}");
                await upstreams.GotoAsync();
                await upstreams.RemoveAsync(upstreamId);
                await Expect(upstreams.Confirmation).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-upstreams-confirm-{name}", fullPage: false);
                await upstreams.Confirmation.GetByRole(AriaRole.Button, new() { Name = "Keep" }).ClickAsync();

                var service = new AdminServicePage(page);
                await service.GotoAsync();
                await Expect(service.UsageTotals).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-service-{name}");
                await service.AskToSwitchAsync(on: false);
                await Expect(service.Confirmation).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-service-confirm-{name}", fullPage: false);
                await service.Confirmation.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

                var audit = new AdminAuditPage(page);
                await audit.GotoAsync();
                await audit.VerifyAsync();
                await Expect(audit.ChainResult).ToBeVisibleAsync();
                await ScreenshotAsync(page, folder, $"admin-audit-{name}");
            }
        }
    }
}
