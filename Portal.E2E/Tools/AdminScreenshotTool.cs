using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves the admin pages in the light and the dark theme, on a desktop and a phone, with
/// their confirmations open. <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter AdminScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AdminScreenshotTool(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    private static readonly ViewportSize[] Viewports =
    [
        new() { Width = 1280, Height = 800 },
        new() { Width = 390, Height = 844 },
    ];

    [ScreenshotFact]
    public Task SaveScreenshotsOfTheAdminPages() => RunAsync(async () =>
    {
        var folder = Directory.CreateDirectory(Environment.GetEnvironmentVariable(ScreenshotFactAttribute.Variable)!).FullName;
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "5", "--reason", "screenshots");
        await MakeSomeUsageAsync(user);
        // An upstream that refuses connections, for a row and a failed test; on kimi-k2, removed at the end,
        // as other tests in the collection may use the simulated models.
        var added = await Portal.Server.RunAdminAsync("add-upstream", "--model", "kimi-k2", "--url", "http://127.0.0.1:9/v1", "--upstream-model", "kimi-k2-instruct", "--priority", "1");
        var upstreamId = int.Parse(System.Text.RegularExpressions.Regex.Match(added, @"Added upstream (\d+)").Groups[1].Value);
        try
        {
            await SaveAllAsync(folder, user, upstreamId);
        }
        finally
        {
            await Portal.Server.RunAdminAsync("remove-upstream", "--id", upstreamId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    });

    private async Task SaveAllAsync(string folder, Account user, int upstreamId)
    {
        foreach (var theme in new[] { "light", "dark" })
        {
            foreach (var viewport in Viewports)
            {
                var name = $"{theme}-{viewport.Width}x{viewport.Height}";
                var page = await NewPageAsync(Portal.Admin, viewport);
                await page.Context.AddCookiesAsync([new() { Name = "portal-theme", Value = theme, Url = Portal.Server.BaseAddress.ToString() }]);

                var users = new AdminPage(page);
                await users.GotoAsync();
                await Expect(users.RowOf(user.Email)).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-users-{name}");
                await users.OpenCreditFormAsync(user.Email);
                await users.FillCreditFormAsync("2.50", "screenshots");
                await users.SubmitCreditFormAsync();
                await Expect(users.Confirmation).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-credits-confirm-{name}", fullPage: false);
                await users.AnswerAsync("Cancel");

                var models = new AdminModelsPage(page);
                await models.GotoAsync();
                await Expect(models.RowOf("glm-5")).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-models-{name}");
                await models.EditAsync("glm-5");
                await Expect(models.Editor).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-models-edit-{name}");

                var upstreams = new AdminUpstreamsPage(page, "kimi-k2");
                await upstreams.GotoAsync();
                await upstreams.TestConnectionAsync(upstreamId);
                await Expect(upstreams.TestResult(upstreamId)).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-upstreams-{name}");
                await upstreams.RemoveAsync(upstreamId);
                await Expect(upstreams.Confirmation).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-upstreams-confirm-{name}", fullPage: false);
                await upstreams.Confirmation.GetByRole(AriaRole.Button, new() { Name = "Keep" }).ClickAsync();

                var service = new AdminServicePage(page);
                await service.GotoAsync();
                await Expect(service.UsageTotals).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-service-{name}");
                await service.AskToSwitchAsync(on: false);
                await Expect(service.Confirmation).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-service-confirm-{name}", fullPage: false);
                await service.Confirmation.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

                var audit = new AdminAuditPage(page);
                await audit.GotoAsync();
                await audit.VerifyAsync();
                await Expect(audit.ChainResult).ToBeVisibleAsync();
                await SaveAsync(page, folder, $"admin-audit-{name}");
            }
        }
    }

    /// <summary>A few simulated requests, so the usage charts have bars.</summary>
    private async Task MakeSomeUsageAsync(Account user)
    {
        var created = await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "admin screenshots");
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new("Bearer", System.Text.RegularExpressions.Regex.Match(created, "sk-portal-[0-9A-Za-z]+").Value);
        for (var i = 0; i < 3; i++)
        {
            using var body = new StringContent($$"""{"model":"glm-5","max_tokens":16,"messages":[{"role":"user","content":"Say hello {{i}}"}]}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await api.PostAsync("/api/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
        }
    }

    private async Task SaveAsync(IPage page, string folder, string name, bool fullPage = true)
    {
        if (!fullPage)
        {
            // A dialog fades in: let it finish, so the picture shows what a person sees.
            await page.WaitForTimeoutAsync(500);
        }

        var path = Path.Combine(folder, $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = fullPage });
        Output.WriteLine(path);
    }
}
