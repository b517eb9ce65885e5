using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed partial class DocsJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task VisitorFollowsTheNavToModelsAndSeesTheCatalogTheApiReports() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var overview = new DocsPage(page);
        var models = new DocsPage(page, "models");

        await overview.GotoAsync();
        await Expect(overview.Title).ToHaveTextAsync("Portal API documentation");
        await Expect(page).ToHaveTitleAsync("Portal API documentation · Portal docs");
        await overview.OpenFromNavAsync("Models");

        await models.ExpectOpenAsync();
        await Expect(models.Title).ToHaveTextAsync("Models");
        var api = await ModelsFromApiAsync(page);
        await Expect(models.ModelRows).ToHaveCountAsync(api.Count);
        foreach (var (id, input, output) in api)
        {
            var row = models.ModelRows.Filter(new() { Has = page.Locator($"code.model-id:text-is('{id}')") });
            await Expect(row.Locator("[data-price=input]")).ToHaveTextAsync(Usd(input));
            await Expect(row.Locator("[data-price=output]")).ToHaveTextAsync(Usd(output));
        }
    });

    [Fact]
    public Task CopyButtonsCopyTheCodeEvenAfterArrivingFromAStaticPage() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var login = new LoginPage(page);
        var quickstart = new DocsPage(page, "quickstart");

        // The login page is static, so Blazor swaps the docs in without loading the page again (and
        // starts their circuit); the next page comes through the circuit's router.
        await login.GotoAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Docs", Exact = true }).First.ClickAsync();
        await Expect(new DocsPage(page).Title).ToHaveTextAsync("Portal API documentation");
        // A click before the circuit is up is an enhanced navigation, which the starting circuit then
        // overwrites with the page it was started for: wait for it, as a person's second click would.
        await new DocsPage(page).WaitUntilInteractiveAsync();
        await new DocsPage(page).OpenFromNavAsync("Quickstart");
        await quickstart.ExpectOpenAsync();
        await Expect(quickstart.Title).ToHaveTextAsync("Quickstart");

        var blocks = quickstart.CodeBlocks;
        Assert.True(await blocks.CountAsync() >= 6);
        for (var i = 0; i < await blocks.CountAsync(); i++)
        {
            await Expect(DocsPage.CopyButton(blocks.Nth(i))).ToBeVisibleAsync();
        }

        var curl = blocks.Filter(new() { HasText = "/chat/completions" }).First;
        await quickstart.WaitUntilCopyReadyAsync();
        await DocsPage.CopyButton(curl).ClickAsync();

        await Expect(DocsPage.CopyButton(curl)).ToHaveTextAsync("Copied");
        var copied = await page.EvaluateAsync<string>("navigator.clipboard.readText()");
        Assert.Equal(await curl.Locator("pre code").TextContentAsync(), copied);
        Assert.StartsWith($"curl {Portal.Server.BaseAddress.ToString().TrimEnd('/')}/api/v1/chat/completions", copied);
    });

    [Fact]
    public Task DocsLinkFromTheInteractiveHomePageOpensAWorkingPage() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var home = new HomePage(page);
        var docs = new DocsPage(page);

        await home.GotoAsync();
        await Expect(home.Page.GetByTestId("model-price-table").Locator("tbody tr")).ToHaveCountAsync((await ModelsFromApiAsync(page)).Count);
        await page.GetByRole(AriaRole.Link, new() { Name = "Read the docs" }).ClickAsync();

        await docs.ExpectOpenAsync();
        await Expect(docs.Title).ToHaveTextAsync("Portal API documentation");
        var block = docs.CodeBlocks.First;
        await docs.WaitUntilCopyReadyAsync();
        await DocsPage.CopyButton(block).ClickAsync();
        await Expect(DocsPage.CopyButton(block)).ToHaveTextAsync("Copied");
        Assert.Equal($"{Portal.Server.BaseAddress.ToString().TrimEnd('/')}/api/v1", await page.EvaluateAsync<string>("navigator.clipboard.readText()"));
    });

    [Fact]
    public Task HeadingAnchorsStayOnTheirPage() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var docs = new DocsPage(page, "chat-completions");

        await docs.GotoAsync();
        await docs.HeadingAnchor("finish-reasons").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/docs/chat-completions#finish-reasons$"));
        await Expect(docs.Title).ToHaveTextAsync("Chat completions");
    });

    [Fact]
    public Task OnAPhoneTheNavFoldsBehindTheDocsMenu() => RunAsync(async () =>
    {
        var page = await NewPageAsync(viewport: new() { Width = 390, Height = 844 });
        var docs = new DocsPage(page, "quickstart");

        await docs.GotoAsync();
        await Expect(docs.NavLink("Errors")).ToBeHiddenAsync();
        await docs.MenuToggle.CheckAsync();
        await Expect(docs.NavLink("Errors")).ToBeVisibleAsync();
        await docs.OpenFromNavAsync("Errors");

        await new DocsPage(page, "errors").ExpectOpenAsync();
        await Expect(docs.Title).ToHaveTextAsync("Errors");
        await Expect(docs.NavLink("Quickstart")).ToBeHiddenAsync(); // folded again on the new page
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"the page is {width} px wide on a 390 px screen");

        // The docs have a circuit, so the app bar's own menu opens here too.
        await docs.Header.OpenMenuAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Playground", Exact = true }).Filter(new() { Visible = true }).ClickAsync();
        // Signed out, the playground sends the reader to sign in first. Waiting for that page to be
        // whole keeps the context from being closed mid-navigation, which can hang Chromium's close.
        await Expect(page).ToHaveURLAsync(new Regex("/login\\?returnUrl=%2Fplayground$", RegexOptions.IgnoreCase));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    });

    [Fact]
    public Task AnUnknownDocsPageSaysSoAndOffersTheNav() => RunAsync(async () =>
    {
        var page = await NewPageAsync();

        var response = await page.GotoAsync("/docs/no-such-page");

        Assert.Equal(404, response!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("There's no docs page called “no-such-page”");
        await Expect(new DocsPage(page).NavLink("Quickstart")).ToBeVisibleAsync();
    });

    [Fact]
    public Task AnUnknownDocsPageReachedThroughTheCircuitSaysSoToo() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var docs = new DocsPage(page, "quickstart");
        await docs.GotoAsync();
        var documentId = await page.EvaluateAsync<double>("() => window.__docsDocument = Math.random()");

        // A stale link, as an old page or a typo would have it, followed inside the circuit.
        await page.EvaluateAsync("""
            () => {
                const link = Object.assign(document.createElement("a"), { href: "/docs/no-such-page", textContent: "An old link" });
                document.querySelector("article.docs-article").prepend(link);
            }
            """);
        await page.GetByRole(AriaRole.Link, new() { Name = "An old link" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/docs/no-such-page$"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("There's no docs page called “no-such-page”");
        await Expect(page).ToHaveTitleAsync("Page not found · Portal docs");
        Assert.Equal(documentId, await page.EvaluateAsync<double>("() => window.__docsDocument")); // no page load
        await docs.NavLink("Quickstart").ClickAsync();
        await Expect(docs.Title).ToHaveTextAsync("Quickstart");
    });

    /// <summary>What <c>GET /api/v1/models</c> says, with a key made through the admin CLI.</summary>
    private async Task<List<(string Id, decimal Input, decimal Output)>> ModelsFromApiAsync(IPage page)
    {
        var user = await Portal.CreateUserAsync();
        var created = await Portal.Server.RunAdminAsync("create-key", "--email", user.Email, "--name", "docs e2e");
        var key = KeyPattern().Match(created).Value;
        var response = await page.APIRequest.GetAsync("/api/v1/models", new() { Headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" } });
        Assert.True(response.Ok, $"GET /api/v1/models answered {response.Status}");
        using var json = JsonDocument.Parse(await response.TextAsync());
        return json.RootElement.GetProperty("data").EnumerateArray()
            .Select(m => (m.GetProperty("id").GetString()!, m.GetProperty("pricing").GetProperty("input").GetDecimal(), m.GetProperty("pricing").GetProperty("output").GetDecimal()))
            .ToList();
    }

    private static string Usd(decimal amount) => amount.ToString("$#,0.00####", System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex("sk-portal-[A-Za-z0-9]{32,}")]
    private static partial Regex KeyPattern();
}
