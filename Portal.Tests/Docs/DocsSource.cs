using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Portal.Docs;

namespace Portal.Tests.Docs;

/// <summary>A fenced code block of a docs page: its language, the words after it (e.g. <c>request</c>), its code.</summary>
public sealed record DocCodeBlock(DocEntry Page, string Language, string Arguments, string Code, int Line)
{
    public bool IsMarked(string word) => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(word);

    public override string ToString() => $"{Page.FileName}:{Line + 1} ({$"{Language} {Arguments}".Trim()})";
}

/// <summary>A <c>curl</c> command from a docs page: the path after the base URL, and its <c>-d</c> body if any.</summary>
public sealed record CurlExample(DocCodeBlock Block, string Path, string? Body)
{
    public override string ToString() => $"{Block} {(Body is null ? "GET" : "POST")} {Path}";
}

/// <summary>Reads the docs' Markdown as the app ships it (embedded in Portal), for tests that check what it says.</summary>
public static partial class DocsSource
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public static IEnumerable<DocCodeBlock> CodeBlocks(string? language = null) =>
        DocsLibrary.Pages.SelectMany(page => Markdown.Parse(DocsLibrary.Source(page), Pipeline)
            .Descendants<FencedCodeBlock>()
            .Select(block => new DocCodeBlock(page, block.Info ?? "", block.Arguments ?? "", block.Lines.ToString(), block.Line)))
            .Where(block => language is null || block.Language == language);

    public static IEnumerable<CurlExample> Curls() =>
        CodeBlocks("bash").SelectMany(block => CurlCommand().Matches(block.Code).Select(match => new CurlExample(
            block,
            match.Groups["path"].Value,
            match.Groups["body"].Success ? match.Groups["body"].Value : null)));

    /// <summary>The rows of the page's first table whose header starts with <paramref name="firstHeader"/>, as cell texts.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> TableRows(DocEntry page, string firstHeader)
    {
        var table = Markdown.Parse(DocsLibrary.Source(page), Pipeline).Descendants<Table>()
            .First(t => CellText((TableCell)((TableRow)t[0])[0]) == firstHeader);
        return table.Skip(1).Cast<TableRow>()
            .Select(row => (IReadOnlyList<string>)row.Cast<TableCell>().Select(CellText).ToList())
            .ToList();
    }

    public static DocEntry Page(string slug) => DocsLibrary.Pages.Single(p => p.Slug == slug);

    /// <summary>The folder of this source file, where the example runners keep their files.</summary>
    public static string TestFolder([CallerFilePath] string path = "") => System.IO.Path.GetDirectoryName(path)!;

    private static string CellText(TableCell cell) =>
        string.Concat(cell.Descendants().Select(node => node switch
        {
            LiteralInline literal => literal.Content.ToString(),
            CodeInline code => code.Content,
            _ => "",
        })).Trim();

    // curl [-N] {{base_url}}/path … [-d '…']: the docs' one shape of curl command.
    [GeneratedRegex(@"curl\s+(?:-\w+\s+)*\{\{base_url\}\}(?<path>/\S*)(?:[^']*?-d\s+'(?<body>[^']*)')?", RegexOptions.Singleline)]
    private static partial Regex CurlCommand();
}
