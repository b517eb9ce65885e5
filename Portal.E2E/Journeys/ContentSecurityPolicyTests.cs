using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

/// <summary>
/// The CSP Portal sends must not break Portal: every kind of page — static, interactive, MudBlazor's
/// grids, the docs' copy buttons, a streamed playground reply — runs in Chromium with no violation.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ContentSecurityPolicyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    /// <summary>Chromium reports each blocked load or script as this event; the page keeps a list.</summary>
    private const string RecordViolations = """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile}:${e.lineNumber}`));
        """;

    [Fact]
    public Task PortalRunsUnderItsPolicyWithoutAViolation() => RunAsync(async () =>
    {
        await Portal.Server.RunAdminAsync("grant-credits", "--email", Portal.Admin.Email, "--amount", "1", "--reason", "csp e2e");
        var page = await NewPageAsync(Portal.Admin);
        var console = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                console.Add(message.Text);
            }
        };
        await page.AddInitScriptAsync(RecordViolations);

        var home = await page.GotoAsync("/");
        Assert.Contains("script-src 'self'", await home!.HeaderValueAsync("content-security-policy"));
        await new HomePage(page).WaitUntilInteractiveAsync();
        // The detector works: an inline script, which the policy forbids, is reported.
        await page.EvaluateAsync("() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }");
        await page.WaitForFunctionAsync("() => window.__cspViolations.length > 0");
        Assert.Null(await page.EvaluateAsync<int?>("() => window.__inline"));
        await page.EvaluateAsync("() => window.__cspViolations = []");
        console.Clear();

        var violations = new List<string>();
        foreach (var path in new[] { "/", "/dashboard", "/status", "/settings/apikeys", "/settings/profile", "/admin", "/admin/models", "/admin/upstreams", "/admin/service", "/admin/audit" })
        {
            await page.GotoAsync(path);
            if (!path.StartsWith("/settings/profile", StringComparison.Ordinal))
            {
                await new HomePage(page).WaitUntilInteractiveAsync();
            }

            violations.AddRange(await ViolationsAsync(page, path));
        }

        var docs = new DocsPage(page, "streaming");
        await docs.GotoAsync();
        await docs.WaitUntilCopyReadyAsync();
        await DocsPage.CopyButton(docs.CodeBlocks.First).ClickAsync();
        await docs.OpenFromNavAsync("Quickstart"); // through the circuit's router
        violations.AddRange(await ViolationsAsync(page, "/docs"));

        var playground = new PlaygroundPage(page);
        await playground.GotoAsync();
        await playground.AskAsync("Say hello in a few words.");
        await Expect(playground.LastReplyUsage).ToBeVisibleAsync();
        await playground.ViewCode.ClickAsync(); // a MudDialog, with tabs
        await playground.CodeTab("Python").ClickAsync();
        await Expect(playground.CodeSample).ToContainTextAsync("from openai import OpenAI");
        violations.AddRange(await ViolationsAsync(page, "/playground"));

        Assert.Empty(violations);
        Assert.Empty(console);
    });

    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string where) =>
        (await page.EvaluateAsync<string[]>("() => window.__cspViolations || []")).Select(v => $"{where}: {v}");
}
