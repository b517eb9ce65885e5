using Portal.Docs;

namespace Portal.Tests.Docs;

public sealed class MarkdownRendererTests
{
    private const string PagePath = "/docs/example";

    private static string Html(RenderedMarkdown rendered) =>
        string.Concat(rendered.Parts.Select(p => p is DocPart.Html h ? h.Markup : $"[{((DocPart.Placeholder)p).Name}]"));

    private static string Render(string markdown) => Html(MarkdownRenderer.Render(markdown, PagePath));

    [Fact]
    public void PipeTablesBecomeTables()
    {
        var html = Render("| Name | Type |\n|---|---|\n| `model` | string |\n");

        Assert.Contains("<div class=\"table-wrap\"><table>", html);
        Assert.Contains("</table></div>", html);
        Assert.Contains("<th>Name</th>", html);
        // Labelled for the phone layout, where each row becomes a card.
        Assert.Contains("<td data-label=\"Name\"><code>model</code></td>", html);
        Assert.Contains("<td data-label=\"Type\">string</td>", html);
    }

    [Fact]
    public void HeadingsGetIdsAndAVisibleLinkToThemselvesOnThisPage()
    {
        var rendered = MarkdownRenderer.Render("# The title\n\nIntro.\n\n## Rate limits & you\n\n### Details\n\n## Rate limits & you\n", PagePath);
        var html = Html(rendered);

        Assert.Equal("The title", rendered.Title);
        Assert.Contains("<h1 id=\"the-title\">The title</h1>", html); // the page title needs no link to itself
        Assert.Contains("<h2 id=\"rate-limits--you\">Rate limits &amp; you <a href=\"/docs/example#rate-limits--you\" class=\"heading-anchor\" aria-label=\"Link to the section “Rate limits &amp; you”\">#</a></h2>", html);
        Assert.Contains("<h3 id=\"details\">Details <a href=\"/docs/example#details\"", html);
        Assert.Contains("<h2 id=\"rate-limits--you-1\">", html);
        Assert.Equal([new DocHeading("rate-limits--you", "Rate limits & you"), new DocHeading("rate-limits--you-1", "Rate limits & you")], rendered.Sections);
    }

    [Fact]
    public void CodeBlocksAreHighlightedEscapedAndGetACopyButton()
    {
        var html = Render("```python\nprint(\"</code></pre><script>alert(1)</script>\")  # if\n```\n");

        Assert.Contains("<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">Python</span>", html);
        Assert.Contains("<button type=\"button\" class=\"code-copy\" data-copy-code aria-live=\"polite\" title=\"Copy the Python code\">Copy</button>", html);
        Assert.Contains("<pre tabindex=\"0\"><code class=\"language-python\">print(<span class=\"tok-str\">&quot;&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</span>)  <span class=\"tok-com\"># if</span></code></pre>", html);
        Assert.DoesNotContain("<script", html);
    }

    [Fact]
    public void HostileFenceInfoAndIndentedCodeAreEscaped()
    {
        var html = Render("```\"><img/src/onerror=alert(1)>\n<b>x</b>\n```\n\n    <i>indented</i>\n");

        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<i>", html);
        Assert.Contains("class=\"language-&quot;&gt;&lt;img/src/onerror=alert(1)&gt;\"", html);
        Assert.Contains("&lt;b&gt;x&lt;/b&gt;", html);
        Assert.Contains("&lt;i&gt;indented&lt;/i&gt;", html);
    }

    [Fact]
    public void RawHtmlInTheMarkdownIsShownAsTextNotRun()
    {
        var html = Render("Hello <script>alert(1)</script> and <img src=x onerror=alert(1)>\n\n<div onclick=\"x\">block</div>\n");

        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<div onclick", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))", "href=\"#\"")]
    [InlineData("[x](JavaScript:alert(1))", "href=\"#\"")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD4=)", "href=\"#\"")]
    [InlineData("![x](javascript:alert(1))", "src=\"#\"")]
    [InlineData("<javascript:alert(1)>", "href=\"#\"")]
    [InlineData("[x](https://example.com/a?b=1)", "href=\"https://example.com/a?b=1\"")]
    [InlineData("[x](/docs/billing#not-enough-credit)", "href=\"/docs/billing#not-enough-credit\"")]
    [InlineData("[x](#messages)", "href=\"/docs/example#messages\"")]
    [InlineData("[x](mailto:ops@example.com)", "href=\"mailto:ops@example.com\"")]
    public void OnlyWebMailAndRelativeLinksSurvive(string markdown, string expected)
    {
        var html = Render(markdown);

        Assert.Contains(expected, html);
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data:", html);
    }

    [Fact]
    public void APlaceholderLineSplitsThePageButInlineTokensStayText()
    {
        var rendered = MarkdownRenderer.Render("# Models\n\nBefore {{base_url}} here.\n\n{{models-table}}\n\nAfter.\n\n{{not a placeholder}}\n", PagePath);

        Assert.Collection(rendered.Parts,
            part => Assert.Contains("Before {{base_url}} here.", Assert.IsType<DocPart.Html>(part).Markup),
            part => Assert.Equal("models-table", Assert.IsType<DocPart.Placeholder>(part).Name),
            part =>
            {
                var markup = Assert.IsType<DocPart.Html>(part).Markup;
                Assert.StartsWith("<p>After.</p>", markup);
                Assert.Contains("<p>{{not a placeholder}}</p>", markup);
            });
    }

    [Fact]
    public void EveryShippedPageRendersWithATitleAndOnlyKnownPlaceholders()
    {
        var library = new DocsLibrary();
        foreach (var entry in DocsLibrary.Pages)
        {
            var page = library.Find(entry.Slug);

            Assert.NotNull(page);
            Assert.False(string.IsNullOrWhiteSpace(page.Content.Title), $"{entry.FileName} has no # title");
            Assert.All(page.Content.Parts.OfType<DocPart.Placeholder>(), p => Assert.Equal(DocsLibrary.ModelsTable, p.Name));
        }

        Assert.Single(library.Find("models")!.Content.Parts.OfType<DocPart.Placeholder>());
        Assert.Same(library.Find("models"), library.Find("MODELS")); // rendered once, found case-insensitively
        Assert.Null(library.Find("index"));
        Assert.Null(library.Find("../appsettings"));
    }
}
