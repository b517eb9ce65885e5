using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Catalog;
using Portal.Docs;
using Portal.Tests.Gateway;

namespace Portal.Tests.Docs;

public sealed partial class DocsPagesTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    public static TheoryData<string> Slugs() => new(DocsLibrary.Pages.Select(p => p.Slug));

    [Theory]
    [MemberData(nameof(Slugs))]
    public async Task EveryPageIsReadableSignedOutWithItsTitleAndTheNavigation(string slug)
    {
        var entry = DocsLibrary.Pages.Single(p => p.Slug == slug);
        using var browser = _app.CreateBrowser();

        var html = await browser.GetPageAsync(entry.Path);

        var title = _app.Services.GetRequiredService<DocsLibrary>().Find(slug)!.Content.Title;
        Assert.Equal($"{title} · Portal docs", TitleOf(html));
        foreach (var other in DocsLibrary.Pages)
        {
            Assert.Contains($"<a href=\"{other.Path}\"", html);
        }

        Assert.Contains($"<a href=\"{entry.Path}\" class=\"active\" aria-current=\"page\"", html);
        Assert.Contains("data-copy-code", html);
        Assert.DoesNotContain("{{", html);
        // Prerendered: the first response is the whole page, readable without a circuit (or script);
        // the circuit that follows only makes the header's menu and the links live.
        Assert.Contains("<article class=\"docs-article\"", html);
        Assert.Contains("Blazor:{\"type\":\"server\"", html);
    }

    [Theory]
    [InlineData("/docs/no-such-page", "no-such-page")]
    [InlineData("/docs/index", "index")]
    [InlineData("/docs/%3Cimg%20src=x%20onerror=alert(1)%3E", "<img src=x onerror=alert(1)>")]
    public async Task AnUnknownPageIsAFriendly404WithTheNavigation(string path, string slug)
    {
        using var browser = _app.CreateBrowser();

        var response = await browser.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Page not found · Portal docs", TitleOf(html));
        Assert.Contains($"There's no docs page called “{slug}”", Html.Text(html));
        Assert.Contains("<a href=\"/docs/quickstart\"", html);
        Assert.DoesNotContain("<img src=x", html);
    }

    [Fact]
    public async Task ExamplesShowThisPortalsBaseUrl()
    {
        using var browser = _app.CreateBrowser();

        var html = await browser.GetPageAsync("/docs/quickstart");

        Assert.Contains("curl http://localhost/api/v1/chat/completions", html);
        Assert.Contains("<span class=\"tok-str\">&quot;http://localhost/api/v1&quot;</span>", html); // Python, JavaScript, C#
        Assert.DoesNotContain("{{base_url}}", html);
    }

    [Fact]
    public async Task ModelsPageListsExactlyTheEnabledModelsWithTheirPrices()
    {
        await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "kimi-k2").ExecuteUpdateAsync(s => s.SetProperty(m => m.Enabled, false)));
        using var browser = _app.CreateBrowser();

        var rows = ModelRows(await browser.GetPageAsync("/docs/models"));

        var enabled = await _app.InStoreAsync(db => db.Models.Where(m => m.Enabled).OrderBy(m => m.Id).ToListAsync());
        Assert.Equal(enabled.Select(m => m.Id), rows.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("kimi-k2", rows.Keys);
        foreach (var model in enabled)
        {
            var row = rows[model.Id];
            Assert.Equal(Money.Format(model.InputPriceMicros), Price(row, "input"));
            Assert.Equal(Money.Format(model.OutputPriceMicros), Price(row, "output"));
            Assert.Contains(model.MaxOutputTokens.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row);
            Assert.Contains(model.ContextLength.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row);
            Assert.Contains(model.Aliases, row);
            Assert.Equal(model.SupportsTools, Html.Text(row).Contains("Tools", StringComparison.Ordinal));
            Assert.Contains("simulated", Html.Text(row));
        }

        Assert.Contains("Reasoning (always)", Html.Text(rows["deepseek-r1"]));
    }

    [Fact]
    public async Task APriceChangeShowsOnTheModelsPageOnceTheOneSecondCatalogCacheHasPassed()
    {
        using var browser = _app.CreateBrowser();
        Assert.Equal("$1.50", Price(ModelRows(await browser.GetPageAsync("/docs/models"))["glm-5"], "input"));

        await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5")
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.InputPriceMicros, 1_234_500).SetProperty(m => m.OutputPriceMicros, 9_000_000)));

        Assert.Equal("$1.50", Price(ModelRows(await browser.GetPageAsync("/docs/models"))["glm-5"], "input")); // still the cached catalog
        _app.Time.Advance(TimeSpan.FromSeconds(1.1));
        var row = ModelRows(await browser.GetPageAsync("/docs/models"))["glm-5"];
        Assert.Equal("$1.2345", Price(row, "input"));
        Assert.Equal("$9.00", Price(row, "output"));
        Assert.Equal("$1.2345", Price(row, "cached-input")); // none of its own: the input price

        await _app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").ExecuteUpdateAsync(s => s.SetProperty(m => m.CachedInputPriceMicros, 123_000)));
        _app.Time.Advance(TimeSpan.FromSeconds(1.1));
        Assert.Equal("$0.123", Price(ModelRows(await browser.GetPageAsync("/docs/models"))["glm-5"], "cached-input"));
    }

    [Fact]
    public async Task AModelWithAnUpstreamLosesItsSimulatedBadge()
    {
        await _app.InStoreAsync(db =>
        {
            db.ModelUpstreams.Add(new ModelUpstream { ModelId = "glm-5", BaseUrl = "http://127.0.0.1:9/v1", UpstreamModel = "glm-5" });
            return db.SaveChangesAsync();
        });
        _app.Time.Advance(TimeSpan.FromSeconds(2));
        using var browser = _app.CreateBrowser();

        var rows = ModelRows(await browser.GetPageAsync("/docs/models"));

        Assert.DoesNotContain("badge-simulated", rows["glm-5"]);
        Assert.Contains("badge-simulated", rows["glm-5.2"]);
    }

    [Fact]
    public async Task HomePageShowsTheLiveModelsAndPrices()
    {
        using var browser = _app.CreateBrowser();

        var html = await browser.GetPageAsync("/");

        Assert.Contains("Models and prices", Html.Text(html));
        var rows = ModelRows(html);
        Assert.Equal(["deepseek-r1", "glm-5", "glm-5.2", "kimi-k2"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("$7.50", Price(rows["glm-5.2"], "output"));
        Assert.Contains("simulated", Html.Text(rows["glm-5.2"]));
    }

    [Fact]
    public async Task EveryLinkInTheDocsLeadsSomewhere()
    {
        using var browser = _app.CreateBrowser();
        var pages = new Dictionary<string, string>();
        async Task<string> PageAsync(string path) => pages.TryGetValue(path, out var html) ? html : pages[path] = await browser.GetPageAsync(path);

        foreach (var entry in DocsLibrary.Pages)
        {
            var content = ArticleOf(await PageAsync(entry.Path));
            foreach (Match link in LocalLink().Matches(content))
            {
                var (path, fragment) = (link.Groups["path"].Value, link.Groups["fragment"].Value);
                if (path.StartsWith("/docs", StringComparison.Ordinal))
                {
                    var target = await PageAsync(path);
                    Assert.True(fragment.Length == 0 || target.Contains($"id=\"{fragment}\"", StringComparison.Ordinal),
                        $"{entry.Path} links to {path}#{fragment}, which has no such heading");
                }
                else
                {
                    var response = await browser.GetAsync(path);
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect, $"{entry.Path} links to {path}, which answers {(int)response.StatusCode}");
                }
            }
        }
    }

    private static string TitleOf(string html) => Html.Text(TitlePattern().Match(html).Groups["title"].Value);

    private static string ArticleOf(string html) => ArticlePattern().Match(html).Value;

    private static Dictionary<string, string> ModelRows(string html) =>
        ModelRow().Matches(html).ToDictionary(m => m.Groups["id"].Value, m => m.Groups["row"].Value);

    private static string Price(string row, string which) =>
        Regex.Match(row, $"data-price=\"{which}\"[^>]*>(?<value>[^<]*)<").Groups["value"].Value;

    [GeneratedRegex("<title>(?<title>[^<]*)</title>")]
    private static partial Regex TitlePattern();

    [GeneratedRegex("<article class=\"docs-article\".*?</article>", RegexOptions.Singleline)]
    private static partial Regex ArticlePattern();

    [GeneratedRegex("<tr data-model=\"(?<id>[^\"]+)\"[^>]*>(?<row>.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex ModelRow();

    [GeneratedRegex("href=\"(?<path>/[^\"#]*)(?:#(?<fragment>[^\"]*))?\"")]
    private static partial Regex LocalLink();
}
