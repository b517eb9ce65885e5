using System.Collections.Concurrent;

namespace Portal.Docs;

/// <summary>A docs page as the navigation lists it. <see cref="Slug"/> is empty for the overview at <c>/docs</c>.</summary>
public sealed record DocEntry(string Slug, string NavTitle, string Group)
{
    public string Path => Slug.Length == 0 ? "/docs" : $"/docs/{Slug}";

    /// <summary>The Markdown file under Portal/Docs/Content/, embedded in the assembly.</summary>
    public string FileName => (Slug.Length == 0 ? "index" : Slug) + ".md";
}

/// <summary>A page ready to show: its entry, its rendered Markdown, and its neighbours for the pager.</summary>
public sealed record DocPage(DocEntry Entry, RenderedMarkdown Content, DocEntry? Previous, DocEntry? Next);

/// <summary>
/// The docs: Markdown files compiled into the assembly as resources (so they are found wherever the
/// binary runs from), rendered once per page and kept. Placeholders that depend on the request or the
/// live catalog (<c>{{base_url}}</c>, <c>{{models-table}}</c>) are filled in by the page.
/// </summary>
public sealed class DocsLibrary
{
    /// <summary>The placeholder line on the models page where the live catalog table goes.</summary>
    public const string ModelsTable = "models-table";

    /// <summary>Replaced with this Portal's API base URL (e.g. <c>https://portal.example.com/api/v1</c>).</summary>
    public const string BaseUrlToken = "{{base_url}}";

    /// <summary>In reading order; the navigation groups them.</summary>
    public static readonly IReadOnlyList<DocEntry> Pages =
    [
        new("", "Overview", "Getting started"),
        new("quickstart", "Quickstart", "Getting started"),
        new("authentication", "Authentication", "Getting started"),
        new("chat-completions", "Chat completions", "API reference"),
        new("responses", "Responses API", "API reference"),
        new("streaming", "Streaming", "API reference"),
        new("function-calling", "Function calling", "API reference"),
        new("messages", "Messages (Anthropic)", "API reference"),
        new("models", "Models", "API reference"),
        new("errors", "Errors", "API reference"),
        new("billing", "Billing", "Account and limits"),
        new("organizations", "Organizations", "Account and limits"),
        new("rate-limits", "Rate limits", "Account and limits"),
        new("webhooks", "Alerts and webhooks", "Account and limits"),
    ];

    private readonly ConcurrentDictionary<string, Lazy<DocPage>> _rendered = new(StringComparer.Ordinal);

    /// <summary>The page with this slug (empty for the overview), or null when there is none.</summary>
    public DocPage? Find(string slug)
    {
        var index = IndexOf(slug);
        if (index < 0)
        {
            return null;
        }

        return _rendered.GetOrAdd(Pages[index].Slug, _ => new Lazy<DocPage>(() => Render(index))).Value;
    }

    /// <summary>The Markdown source of a page, as compiled into the assembly.</summary>
    public static string Source(DocEntry entry)
    {
        var resource = $"Portal.Docs.Content.{entry.FileName}";
        using var stream = typeof(DocsLibrary).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The docs page '{entry.FileName}' is not embedded ({resource}); see Portal.csproj.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static int IndexOf(string slug)
    {
        for (var i = 0; i < Pages.Count; i++)
        {
            if (string.Equals(Pages[i].Slug, slug, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static DocPage Render(int index)
    {
        var entry = Pages[index];
        return new DocPage(
            entry,
            MarkdownRenderer.Render(Source(entry), entry.Path),
            index > 0 ? Pages[index - 1] : null,
            index < Pages.Count - 1 ? Pages[index + 1] : null);
    }
}
