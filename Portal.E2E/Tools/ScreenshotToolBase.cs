using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;

namespace Portal.E2E.Tools;

/// <summary>A fact that only runs when <c>PORTAL_SCREENSHOTS</c> names a folder; skipped otherwise.</summary>
public sealed class ScreenshotFactAttribute : FactAttribute
{
    public const string Variable = "PORTAL_SCREENSHOTS";

    public ScreenshotFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"Opt-in tool: set {Variable}=<folder> to save screenshots of the pages.";
        }
    }
}

/// <summary>What the screenshot tools share: the themes and screens they go through, the data they show, how a picture is saved.</summary>
public abstract class ScreenshotToolBase(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    protected static readonly string[] Themes = ["light", "dark"];

    protected static readonly ViewportSize[] Viewports =
    [
        new() { Width = 1280, Height = 800 },
        new() { Width = 390, Height = 844 },
    ];

    /// <summary>The folder <c>PORTAL_SCREENSHOTS</c> names, created if missing.</summary>
    protected static string Folder() =>
        Directory.CreateDirectory(Environment.GetEnvironmentVariable(ScreenshotFactAttribute.Variable)!).FullName;

    /// <summary>A page whose browser asked for <paramref name="theme"/> (the cookie the server renders from).</summary>
    protected async Task<IPage> ThemedPageAsync(string theme, Account? signedInAs, ViewportSize viewport)
    {
        var page = await NewPageAsync(signedInAs, viewport);
        await page.Context.AddCookiesAsync([new Cookie { Name = "portal-theme", Value = theme, Url = Portal.Server.BaseAddress.ToString() }]);
        return page;
    }

    /// <summary>
    /// Runs <paramref name="save"/> while kimi-k2 has an upstream that refuses connections (given its id),
    /// so pages have an upstream row, a failed connection test and failed requests to show; removed at
    /// the end, as other tests in the collection use the simulated models.
    /// </summary>
    protected async Task WithRefusingUpstreamAsync(Func<int, Task> save)
    {
        var added = await Portal.Server.RunAdminAsync("add-upstream", "--model", "kimi-k2", "--url", "http://127.0.0.1:9/v1", "--upstream-model", "kimi-k2-instruct", "--priority", "1");
        var upstreamId = int.Parse(Regex.Match(added, @"Added upstream (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await save(upstreamId);
        }
        finally
        {
            await Portal.Server.RunAdminAsync("remove-upstream", "--id", upstreamId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Credits, a few real (simulated) requests and, inside <see cref="WithRefusingUpstreamAsync"/>, a
    /// failed one, so the usage charts and lists have something to show.
    /// </summary>
    protected async Task MakeSomeUsageAsync(Account user)
    {
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "5", "--reason", "screenshots");
        var created = await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "screenshots");
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new("Bearer", Regex.Match(created, "sk-portal-[0-9A-Za-z]+").Value);
        for (var i = 0; i < 3; i++)
        {
            using var body = new StringContent($$"""{"model":"glm-5","max_tokens":16,"messages":[{"role":"user","content":"Say hello {{i}}"}]}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await api.PostAsync("/api/v1/chat/completions", body);
            response.EnsureSuccessStatusCode();
        }

        // Another model, and kimi-k2, whose only upstream may refuse connections: a failed request for the lists.
        foreach (var model in new[] { "glm-5.2", "kimi-k2" })
        {
            using var body = new StringContent($$"""{"model":"{{model}}","max_tokens":16,"messages":[{"role":"user","content":"Say hello"}]}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await api.PostAsync("/api/v1/chat/completions", body);
        }
    }

    /// <param name="fullPage">False for what is fixed to the screen (a dialog): the viewport, once its fade-in is over.</param>
    protected async Task ScreenshotAsync(IPage page, string folder, string name, bool fullPage = true)
    {
        if (fullPage)
        {
            // From the top: a full-page capture of a scrolled page draws the sticky app bar mid-page.
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        }
        else
        {
            await page.WaitForTimeoutAsync(500);
        }

        var path = Path.Combine(folder, $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = fullPage });
        Output.WriteLine(path);
    }
}
