using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Catalog;
using Portal.Components.Pages;
using Portal.Docs;
using Portal.Tests.Components;

namespace Portal.Tests.Docs;

/// <summary>
/// The docs and home pages as a circuit renders them (a link followed after the first response),
/// against a real Portal's catalog.
/// </summary>
public sealed class DocsComponentTests : ComponentTestBase
{
    private readonly PortalApplication _app = new();

    public DocsComponentTests()
    {
        Services.AddLogging();
        Services.AddSingleton(new DocsLibrary());
        Services.AddSingleton(_app.Services.GetRequiredService<ModelCatalog>());
    }

    protected override async Task DisposeFixturesAsync() => await _app.DisposeAsync();

    [Fact]
    public void ALinkToAnUnknownPageShowsTheDocsOwnMessageWithTheNavigation()
    {
        var page = Render<DocsPage>(p => p.Add(c => c.Slug, "no-such-page"));

        Assert.Equal("There's no docs page called “no-such-page”", page.Find("h1").TextContent);
        Assert.NotNull(page.Find("nav[aria-label=Documentation] a[href='/docs/quickstart']"));
        Assert.Empty(page.FindAll("a[aria-current=page]"));
    }

    [Fact]
    public void FollowingTheNavShowsTheNextPageWithItsExamplesAtThisPortalsAddress()
    {
        var page = Render<DocsPage>(p => p.Add(c => c.Slug, "quickstart"));
        Assert.Equal("Quickstart", page.Find("nav a[aria-current=page]").TextContent);

        page.Render(p => p.Add(c => c.Slug, "authentication"));

        Assert.Equal("Authentication", page.Find("nav a[aria-current=page]").TextContent);
        Assert.Equal("Authentication", page.Find("article h1").FirstChild!.TextContent.Trim());
        Assert.Contains("http://localhost/api/v1", page.Find("article").TextContent);
        Assert.DoesNotContain("{{base_url}}", page.Markup);
        Assert.Equal("/docs/chat-completions", page.Find("a[rel=next]").GetAttribute("href"));
    }

    [Fact]
    public void TheModelsPageListsTheCatalogWithSimulatedModelsMarked()
    {
        var page = Render<DocsPage>(p => p.Add(c => c.Slug, "models"));

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=model-price-table] tbody tr").Count));
        var glm = page.Find("tr[data-model='glm-5']");
        Assert.Equal("$1.50", glm.QuerySelector("[data-price=input]")!.TextContent);
        Assert.Contains("simulated", glm.QuerySelector("th")!.TextContent);
        Assert.Contains("No provider is connected to these models yet", page.Find(".model-table-note").TextContent);
    }

    [Fact]
    public void TheHomePageOffersSignUpToVisitorsAndTheDashboardToMembers()
    {
        var visitor = Render<Home>();
        Assert.Equal("/signup", visitor.FindAll("a").Single(a => a.TextContent.Trim() == "Create an account").GetAttribute("href"));
        Assert.Equal("/docs", visitor.FindAll("a").Single(a => a.TextContent.Trim() == "Read the docs").GetAttribute("href"));
        Assert.DoesNotContain("Go to your dashboard", visitor.Markup);

        SignInAs("ada@example.com");
        var member = Render<Home>();

        Assert.Equal("/dashboard", member.FindAll("a").Single(a => a.TextContent.Trim() == "Go to your dashboard").GetAttribute("href"));
        Assert.StartsWith("curl http://localhost/api/v1/chat/completions", member.Find("pre.hero-code").TextContent);
    }
}
