using Markdig;
using Markdig.Extensions.AutoIdentifiers;
using Markdig.Extensions.Tables;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Portal.Docs;

/// <summary>A heading readers can jump to: its anchor id and its text.</summary>
public sealed record DocHeading(string Id, string Text);

/// <summary>
/// A Markdown page as HTML, cut at each placeholder line (<c>{{models-table}}</c>) so a live component
/// can be rendered between the pieces.
/// </summary>
public sealed record RenderedMarkdown(string Title, IReadOnlyList<DocHeading> Sections, IReadOnlyList<DocPart> Parts);

/// <summary>A piece of a rendered page: static HTML, or the name of a placeholder to fill at request time.</summary>
public abstract record DocPart
{
    public sealed record Html(string Markup) : DocPart;

    public sealed record Placeholder(string Name) : DocPart;
}

/// <summary>
/// Markdown → HTML with Markdig for the docs: pipe tables, GitHub-style heading ids with a visible
/// <c>#</c> link, highlighted code blocks with a Copy button. Raw HTML in the Markdown is escaped, not
/// passed through, and links may only be web, mail or relative ones: the output is safe to embed.
/// </summary>
public static class MarkdownRenderer
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseAutoIdentifiers(AutoIdentifierOptions.GitHub)
        .UseEmphasisExtras()
        .UseListExtras()
        .UseCustomContainers() // ::: note … ::: call-outs
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    private static readonly string[] SafeSchemes = ["http:", "https:", "mailto:"];

    /// <param name="markdown">The page source.</param>
    /// <param name="pagePath">The page's own path (e.g. <c>/docs/streaming</c>): heading links point at
    /// <c>pagePath#id</c>, because with <c>&lt;base href="/"&gt;</c> a bare <c>#id</c> would lead to the home page.</param>
    public static RenderedMarkdown Render(string markdown, string pagePath)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        var title = "";
        var sections = new List<DocHeading>();
        foreach (var heading in document.Descendants<HeadingBlock>())
        {
            var id = heading.GetAttributes().Id ?? "";
            var text = PlainText(heading.Inline);
            if (heading.Level == 1 && title.Length == 0)
            {
                title = text;
                continue;
            }

            if (heading.Level == 2)
            {
                sections.Add(new DocHeading(id, text));
            }

            if (id.Length > 0 && heading.Inline is not null)
            {
                var anchor = new LinkInline($"{pagePath}#{id}", "");
                anchor.AppendChild(new LiteralInline("#"));
                anchor.GetAttributes().AddClass("heading-anchor");
                anchor.GetAttributes().AddProperty("aria-label", $"Link to the section “{text}”");
                heading.Inline.AppendChild(new LiteralInline(" "));
                heading.Inline.AppendChild(anchor);
            }
        }

        LabelTableCells(document);

        foreach (var link in document.Descendants<LinkInline>())
        {
            link.Url = SafeUrl(link.Url, pagePath);
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            link.Url = SafeUrl(link.Url, pagePath) ?? "";
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        Pipeline.Setup(renderer);
        renderer.ObjectRenderers.Replace<CodeBlockRenderer>(new HighlightedCodeBlockRenderer());
        renderer.Render(document);
        writer.Flush();
        // A wrapper lets a wide table scroll on a phone while it fills the column on a desktop.
        // (With raw HTML disabled, every <table> here is one Markdig wrote.)
        var html = writer.ToString()
            .Replace("<table>", "<div class=\"table-wrap\"><table>", StringComparison.Ordinal)
            .Replace("</table>", "</table></div>", StringComparison.Ordinal);
        return new RenderedMarkdown(title, sections, Split(html));
    }

    /// <summary>
    /// Each body cell gets its column's header as <c>data-label</c>, so on a phone a row can be shown as
    /// a small card of labelled lines instead of a table too wide to read.
    /// </summary>
    private static void LabelTableCells(MarkdownDocument document)
    {
        foreach (var table in document.Descendants<Table>())
        {
            var rows = table.OfType<TableRow>().ToList();
            var header = rows.FirstOrDefault(r => r.IsHeader);
            if (header is null)
            {
                continue;
            }

            var labels = header.OfType<TableCell>().Select(c => PlainText(c.Descendants<ParagraphBlock>().FirstOrDefault()?.Inline)).ToList();
            foreach (var row in rows.Where(r => !r.IsHeader))
            {
                var cells = row.OfType<TableCell>().ToList();
                for (var i = 0; i < cells.Count && i < labels.Count; i++)
                {
                    cells[i].GetAttributes().AddProperty("data-label", labels[i]);
                }
            }
        }
    }

    /// <summary>A paragraph holding only <c>{{name}}</c> becomes a placeholder part.</summary>
    private static List<DocPart> Split(string html)
    {
        var parts = new List<DocPart>();
        var rest = html.AsSpan();
        while (true)
        {
            var start = rest.IndexOf("<p>{{", StringComparison.Ordinal);
            var end = start < 0 ? -1 : rest[start..].IndexOf("}}</p>", StringComparison.Ordinal);
            if (start < 0 || end < 0)
            {
                break;
            }

            var name = rest.Slice(start + 5, end - 5).ToString();
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                // Not a placeholder line (e.g. {{base_url}} inside a sentence): keep it as text.
                parts.Add(new DocPart.Html(rest[..(start + end + 6)].ToString()));
                rest = rest[(start + end + 6)..];
                continue;
            }

            if (start > 0)
            {
                parts.Add(new DocPart.Html(rest[..start].ToString()));
            }

            parts.Add(new DocPart.Placeholder(name));
            rest = rest[(start + end + 6)..].TrimStart('\n');
        }

        if (!rest.IsEmpty)
        {
            parts.Add(new DocPart.Html(rest.ToString()));
        }

        return Merge(parts);
    }

    private static List<DocPart> Merge(List<DocPart> parts)
    {
        var merged = new List<DocPart>();
        foreach (var part in parts)
        {
            if (part is DocPart.Html html && merged.Count > 0 && merged[^1] is DocPart.Html previous)
            {
                merged[^1] = new DocPart.Html(previous.Markup + html.Markup);
            }
            else
            {
                merged.Add(part);
            }
        }

        return merged;
    }

    /// <summary>Web, mail and relative links pass; <c>#id</c> gets the page path; anything else (javascript:, data:…) is dropped.</summary>
    private static string? SafeUrl(string? url, string pagePath)
    {
        if (string.IsNullOrEmpty(url))
        {
            return url;
        }

        var trimmed = url.Trim();
        if (trimmed.StartsWith('#'))
        {
            return pagePath + trimmed;
        }

        var colon = trimmed.IndexOf(':');
        var slash = trimmed.IndexOfAny(['/', '?', '#']);
        var hasScheme = colon >= 0 && (slash < 0 || colon < slash);
        return !hasScheme || SafeSchemes.Any(s => trimmed.StartsWith(s, StringComparison.OrdinalIgnoreCase)) ? trimmed : "#";
    }

    private static string PlainText(ContainerInline? inline)
    {
        if (inline is null)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        foreach (var node in inline.Descendants())
        {
            switch (node)
            {
                case LiteralInline literal:
                    text.Append(literal.Content.ToString());
                    break;
                case CodeInline code:
                    text.Append(code.Content);
                    break;
            }
        }

        return text.ToString().Trim();
    }

    /// <summary>
    /// Fenced and indented code: a header with the language and a Copy button (wired up by
    /// <c>wwwroot/docs.js</c>), then the highlighted code. The fence's words after the language
    /// (e.g. <c>```json request</c>) are for tests and tooling, not shown.
    /// </summary>
    private sealed class HighlightedCodeBlockRenderer : HtmlObjectRenderer<CodeBlock>
    {
        protected override void Write(HtmlRenderer renderer, CodeBlock block)
        {
            var language = (block as FencedCodeBlock)?.Info?.Trim();
            if (string.IsNullOrEmpty(language))
            {
                language = null;
            }

            var code = block.Lines.ToString();
            var label = CodeHighlighter.Label(language) ?? language ?? "Code";
            renderer.EnsureLine();
            renderer.Write("<div class=\"code-block\"><div class=\"code-head\"><span class=\"code-lang\">")
                .Write(CodeHighlighter.Escape(label))
                .Write("</span><button type=\"button\" class=\"code-copy\" data-copy-code aria-live=\"polite\" title=\"Copy the ")
                .Write(CodeHighlighter.Escape(label))
                .Write(" code\">Copy</button></div><pre tabindex=\"0\"><code")
                .Write(language is null ? "" : $" class=\"language-{CodeHighlighter.Escape(language)}\"")
                .Write(">")
                .Write(CodeHighlighter.Highlight(code, language))
                .Write("</code></pre></div>");
            renderer.WriteLine();
        }
    }
}
