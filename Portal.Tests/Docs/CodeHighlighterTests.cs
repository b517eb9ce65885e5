using System.Text.RegularExpressions;
using Portal.Docs;

namespace Portal.Tests.Docs;

public sealed partial class CodeHighlighterTests
{
    private static string S(string cls, string html) => $"<span class=\"tok-{cls}\">{html}</span>";

    [Fact]
    public void JsonKeysStringsNumbersAndLiteralsAreMarked()
    {
        var html = CodeHighlighter.Highlight("""{"model": "glm-5", "n": 2, "t": -0.5e3, "stream": true, "stop": null}""", "json");

        Assert.Equal(
            "{" + S("key", "&quot;model&quot;") + ": " + S("str", "&quot;glm-5&quot;") + ", "
            + S("key", "&quot;n&quot;") + ": " + S("num", "2") + ", "
            + S("key", "&quot;t&quot;") + ": " + S("num", "-0.5e3") + ", "
            + S("key", "&quot;stream&quot;") + ": " + S("kw", "true") + ", "
            + S("key", "&quot;stop&quot;") + ": " + S("kw", "null") + "}",
            html);
    }

    [Fact]
    public void JsonStringHoldingKeywordsAndScriptStaysOneEscapedString()
    {
        var html = CodeHighlighter.Highlight("""{"content": "if true then <script>alert('x')</script> \"null\""}""", "json");

        Assert.Equal(
            "{" + S("key", "&quot;content&quot;") + ": "
            + S("str", "&quot;if true then &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; \\&quot;null\\&quot;&quot;") + "}",
            html);
    }

    [Fact]
    public void ShellMarksCommentsStringsVariablesKeywordsAndNumbersButNotFlagsOrHashesInWords()
    {
        var html = CodeHighlighter.Highlight(
            "export KEY='a # b' # set it\ncurl -N \"$URL/x?a=1#frag\" --max-time 30 -H \"Bearer $KEY\" && echo ${HOME} done-ish",
            "bash");

        Assert.Equal(
            S("kw", "export") + " KEY=" + S("str", "&#39;a # b&#39;") + " " + S("com", "# set it") + "\n"
            + "curl -N " + S("str", "&quot;$URL/x?a=1#frag&quot;") + " --max-time " + S("num", "30") + " -H "
            + S("str", "&quot;Bearer $KEY&quot;") + " &amp;&amp; echo " + S("var", "${HOME}") + " done-ish",
            html);
    }

    [Fact]
    public void ShellSingleQuotedBodySpansLinesAndKeepsItsContentInert()
    {
        var html = CodeHighlighter.Highlight("curl -d '{\n  \"if\": \"<b>done</b>\"\n}'", "sh");

        Assert.Equal("curl -d " + S("str", "&#39;{\n  &quot;if&quot;: &quot;&lt;b&gt;done&lt;/b&gt;&quot;\n}&#39;"), html);
    }

    [Fact]
    public void PythonMarksKeywordsStringsCommentsAndNumbersButNotKeywordsInsideNames()
    {
        var html = CodeHighlighter.Highlight(
            "def format_if(x):  # for now\n    return f\"for {x}\" + 'in' + \"\"\"while\n\"\"\" if x else None, 3.5, 0x1F, iffy",
            "python");

        Assert.Equal(
            S("kw", "def") + " format_if(x):  " + S("com", "# for now") + "\n"
            + "    " + S("kw", "return") + " " + S("str", "f&quot;for {x}&quot;") + " + " + S("str", "&#39;in&#39;") + " + "
            + S("str", "&quot;&quot;&quot;while\n&quot;&quot;&quot;") + " " + S("kw", "if") + " x " + S("kw", "else") + " " + S("kw", "None")
            + ", " + S("num", "3.5") + ", " + S("num", "0x1F") + ", iffy",
            html);
    }

    [Fact]
    public void JavaScriptMarksCommentsStringsTemplatesAndNumbers()
    {
        var html = CodeHighlighter.Highlight(
            "const s = \"if\"; // else\nlet n = 0x1F + 2.5; /* for\n */ await go(`for ${n} </script>`, 'x', returned);",
            "javascript");

        Assert.Equal(
            S("kw", "const") + " s = " + S("str", "&quot;if&quot;") + "; " + S("com", "// else") + "\n"
            + S("kw", "let") + " n = " + S("num", "0x1F") + " + " + S("num", "2.5") + "; " + S("com", "/* for\n */") + " "
            + S("kw", "await") + " go(" + S("str", "`for ${n} &lt;/script&gt;`") + ", " + S("str", "&#39;x&#39;") + ", returned);",
            html);
    }

    [Fact]
    public void CSharpMarksVerbatimInterpolatedRawAndCharLiterals()
    {
        var html = CodeHighlighter.Highlight(
            "var p = @\"C:\\if\"\"x\"; // note\nint n = 42_000L; string t = $\"while \\\"{n}\\\"\"; char c = 'a'; var r = \"\"\"<raw \"if\">\"\"\"; Foreach();",
            "csharp");

        Assert.Equal(
            S("kw", "var") + " p = " + S("str", "@&quot;C:\\if&quot;&quot;x&quot;") + "; " + S("com", "// note") + "\n"
            + S("kw", "int") + " n = " + S("num", "42_000L") + "; " + S("kw", "string") + " t = " + S("str", "$&quot;while \\&quot;{n}\\&quot;&quot;") + "; "
            + S("kw", "char") + " c = " + S("str", "&#39;a&#39;") + "; " + S("kw", "var") + " r = " + S("str", "&quot;&quot;&quot;&lt;raw &quot;if&quot;&gt;&quot;&quot;&quot;")
            + "; Foreach();",
            html);
    }

    [Theory]
    [InlineData("text")]
    [InlineData(null)]
    [InlineData("\"><script>")]
    public void UnknownLanguagesAreEscapedWithoutSpans(string? language)
    {
        Assert.Equal("&lt;b onclick=&quot;x&quot;&gt;if &amp; 1&lt;/b&gt;", CodeHighlighter.Highlight("<b onclick=\"x\">if & 1</b>", language));
    }

    [Theory]
    [InlineData("json", "{\"a\": \"unterminated")]
    [InlineData("bash", "echo 'unterminated\nand \"more")]
    [InlineData("python", "x = '''never closed")]
    [InlineData("javascript", "/* never closed `x")]
    [InlineData("csharp", "var s = @\"never closed")]
    public void UnterminatedTokensRunToTheEndWithoutLosingText(string language, string code)
    {
        Assert.Equal(code, TextOf(CodeHighlighter.Highlight(code, language)));
    }

    public static TheoryData<string, string, string> EveryDocsCodeBlockAndHostileSamples()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var block in DocsSource.CodeBlocks())
        {
            data.Add(block.ToString(), block.Language, block.Code);
        }

        foreach (var language in new[] { "bash", "json", "python", "javascript", "csharp" })
        {
            data.Add("hostile", language, "</code></pre><script>alert(1)</script><img src=x onerror=alert(1)> & &amp; \" ' ` \\ $ # // /* */ {{base_url}}");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryDocsCodeBlockAndHostileSamples))]
    public void HighlightingKeepsTheTextExactlyAndAddsOnlyTokenSpans(string source, string language, string code)
    {
        var html = CodeHighlighter.Highlight(code, language);

        Assert.True(code == TextOf(html), $"{source}: the highlighted text differs from the code");
        var tags = Tag().Matches(html).Select(m => m.Value).Distinct().ToList();
        Assert.All(tags, tag => Assert.Matches("^(</span>|<span class=\"tok-(str|kw|com|num|key|var)\">)$", tag));
    }

    private static string TextOf(string html) => WebUtility.HtmlDecode(Tag().Replace(html, ""));

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();
}
