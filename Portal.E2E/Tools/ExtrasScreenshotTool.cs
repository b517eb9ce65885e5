using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Tools;

/// <summary>
/// Not a check: saves what cached-input prices, end users and the playground's response formats changed —
/// the playground's parameters with a JSON schema (and a structured reply, and a schema it refuses, and the
/// request as Responses and Messages code), the
/// model editor's cached-input price, the dashboard filtered by an end user with a request opened — light
/// and dark, desktop and phone. <c>PORTAL_SCREENSHOTS=/tmp/shots dotnet test Portal.E2E --filter ExtrasScreenshotTool</c>
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ExtrasScreenshotTool(PortalFixture portal, ITestOutputHelper output) : ScreenshotToolBase(portal, output)
{
    [ScreenshotFact]
    public Task SaveScreenshotsOfCachedPricesEndUsersAndResponseFormats() => RunAsync(async () =>
    {
        var folder = Folder();
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("set-prices", "--model", "glm-5", "--cached-input", "0.30");
        try
        {
            await MakeEndUserUsageAsync(user);
            foreach (var theme in Themes)
            {
                foreach (var viewport in Viewports)
                {
                    var size = $"{theme}-{viewport.Width}x{viewport.Height}";
                    await SavePlaygroundAsync(new PlaygroundPage(await ThemedPageAsync(theme, user, viewport)), folder, size);
                    await SaveModelEditorAsync(await ThemedPageAsync(theme, Portal.Admin, viewport), folder, size);
                    await SaveDashboardAsync(new DashboardPage(await ThemedPageAsync(theme, user, viewport)), folder, size);
                }
            }
        }
        finally
        {
            // Other tests in the collection expect the seeded prices.
            await Portal.Server.RunAdminAsync("set-prices", "--model", "glm-5", "--cached-input", "as-input");
        }
    });

    private async Task SavePlaygroundAsync(PlaygroundPage playground, string folder, string size)
    {
        await playground.GotoAsync();
        await playground.Page.GetByRole(AriaRole.Radio, new() { Name = "JSON schema" }).CheckAsync();
        var schema = playground.Page.Locator("#schema-text");
        await Expect(schema).ToBeVisibleAsync();
        await playground.AskAsync("Which city has trams on its hills?");
        await Expect(playground.LastReply.GetByTestId("reply-json")).ToBeVisibleAsync();
        await Expect(playground.LastReplyUsage).ToBeVisibleAsync();
        await ScreenshotAsync(playground.Page, folder, $"playground-json-schema-{size}");

        await schema.FillAsync("{\"type\": \"object\", \"properties\": {");
        await schema.BlurAsync();
        await Expect(playground.Page.Locator("#schema-text-error")).ToContainTextAsync("not valid JSON");
        await ScreenshotAsync(playground.Page, folder, $"playground-schema-error-{size}");

        // The view-code dialog on the tabs of the other front doors (the schema is valid again first).
        await schema.FillAsync("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}");
        await schema.BlurAsync();
        await playground.ViewCode.ClickAsync();
        foreach (var (api, tab, name) in new[] { ("Responses", "curl", "responses-curl"), ("Messages", "Python (Anthropic SDK)", "messages-python") })
        {
            await playground.CodeApi(api).ClickAsync();
            await playground.CodeTab(tab).ClickAsync();
            await Expect(playground.CodeTab(tab)).ToHaveAttributeAsync("aria-selected", "true");
            await ScreenshotAsync(playground.Page, folder, $"playground-code-{name}-{size}", fullPage: false); // the dialog is fixed to the screen
        }

        await playground.Page.Keyboard.PressAsync("Escape");
    }

    private async Task SaveModelEditorAsync(IPage page, string folder, string size)
    {
        var models = new AdminModelsPage(page);
        await models.GotoAsync();
        await Expect(models.RowOf("glm-5")).ToBeVisibleAsync();
        await ScreenshotAsync(page, folder, $"admin-models-cached-{size}");
        await models.EditAsync("glm-5");
        var cached = page.Locator("#model-cached-input-price");
        await Expect(cached).ToHaveValueAsync("0.3");
        await cached.FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.Locator("#model-cached-input-price-error")).ToBeVisibleAsync();
        await cached.EvaluateAsync("input => input.scrollIntoView({ block: 'center' })");
        await ScreenshotAsync(page, folder, $"admin-models-cached-error-{size}", fullPage: false);
    }

    private async Task SaveDashboardAsync(DashboardPage dashboard, string folder, string size)
    {
        await dashboard.Page.GotoAsync("/dashboard?user=customer-7");
        await dashboard.WaitUntilInteractiveAsync();
        await Expect(dashboard.RequestRows).ToHaveCountAsync(2);
        await dashboard.RequestRows.First.Locator("button").First.ClickAsync();
        await Expect(dashboard.Page.GetByTestId("request-detail")).ToBeVisibleAsync();
        await dashboard.Page.Locator("#requests").ScrollIntoViewIfNeededAsync();
        await ScreenshotAsync(dashboard.Page, folder, $"dashboard-end-user-{size}");
    }

    /// <summary>Credits and a few requests, two of them for one end user, one for another.</summary>
    private async Task MakeEndUserUsageAsync(Account user)
    {
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "5", "--reason", "screenshots");
        var created = await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "shop backend");
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new("Bearer", Regex.Match(created, "sk-portal-[0-9A-Za-z]+").Value);
        foreach (var endUser in new[] { "customer-7", "customer-8", "customer-7" })
        {
            using var body = new StringContent($$"""{"model":"glm-5","max_tokens":16,"user":"{{endUser}}","messages":[{"role":"user","content":"Hello from {{endUser}}"}]}""",
                System.Text.Encoding.UTF8, "application/json");
            using var response = await api.PostAsync("/api/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
        }
    }
}
