using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace Portal.Docs;

/// <summary>
/// A small server-side syntax highlighter for the languages the docs show (shell, JSON, Python,
/// JavaScript, C#): it wraps strings, keywords, comments and numbers in <c>&lt;span class="tok-…"&gt;</c>
/// and HTML-escapes everything, so the docs need no client-side library. It is a scanner, not a
/// parser: at each position the first matching rule wins, and words are taken whole so a keyword
/// inside a longer name (or inside a string) is never coloured.
/// </summary>
public static partial class CodeHighlighter
{
    public const string StringClass = "tok-str";
    public const string KeywordClass = "tok-kw";
    public const string CommentClass = "tok-com";
    public const string NumberClass = "tok-num";
    /// <summary>JSON object keys: strings, but shown apart so a body reads at a glance.</summary>
    public const string KeyClass = "tok-key";
    /// <summary>Shell variables such as <c>$PORTAL_API_KEY</c>.</summary>
    public const string VariableClass = "tok-var";

    private sealed record Rule(Regex Pattern, string? Class);

    private sealed record Language(string Label, IReadOnlyList<Rule> Rules, Regex Word, FrozenSet<string> Keywords);

    private static readonly FrozenDictionary<string, Language> Languages = BuildLanguages();

    /// <summary>The language's display name (e.g. "Python"), or null when it is not highlighted.</summary>
    public static string? Label(string? language) =>
        language is not null && Languages.TryGetValue(language, out var found) ? found.Label : null;

    /// <summary>The code as HTML: escaped, with tokens wrapped in spans when the language is known.</summary>
    public static string Highlight(string code, string? language)
    {
        var html = new StringBuilder(code.Length * 2);
        if (language is null || !Languages.TryGetValue(language, out var lang))
        {
            AppendEscaped(html, code);
            return html.ToString();
        }

        var i = 0;
        while (i < code.Length)
        {
            var matched = false;
            foreach (var rule in lang.Rules)
            {
                var match = rule.Pattern.Match(code, i);
                if (match.Success && match.Length > 0)
                {
                    Append(html, match.Value, rule.Class);
                    i += match.Length;
                    matched = true;
                    break;
                }
            }

            if (matched)
            {
                continue;
            }

            var word = lang.Word.Match(code, i);
            if (word.Success && word.Length > 0)
            {
                Append(html, word.Value, lang.Keywords.Contains(word.Value) ? KeywordClass : null);
                i += word.Length;
                continue;
            }

            AppendEscaped(html, code.AsSpan(i, 1));
            i++;
        }

        return html.ToString();
    }

    /// <summary>Escapes text for HTML element content and attribute values.</summary>
    public static string Escape(string text)
    {
        var html = new StringBuilder(text.Length + 16);
        AppendEscaped(html, text);
        return html.ToString();
    }

    private static void Append(StringBuilder html, string text, string? cssClass)
    {
        if (cssClass is null)
        {
            AppendEscaped(html, text);
            return;
        }

        html.Append("<span class=\"").Append(cssClass).Append("\">");
        AppendEscaped(html, text);
        html.Append("</span>");
    }

    private static void AppendEscaped(StringBuilder html, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': html.Append("&amp;"); break;
                case '<': html.Append("&lt;"); break;
                case '>': html.Append("&gt;"); break;
                case '"': html.Append("&quot;"); break;
                case '\'': html.Append("&#39;"); break;
                default: html.Append(c); break;
            }
        }
    }

    private static FrozenDictionary<string, Language> BuildLanguages()
    {
        var shell = new Language("Shell",
            [
                new(ShellComment(), CommentClass),
                new(ShellSingleQuoted(), StringClass),
                new(ShellDoubleQuoted(), StringClass),
                new(ShellVariable(), VariableClass),
                new(ShellNumber(), NumberClass),
            ],
            ShellWord(),
            Words("""
                if then else elif fi for while until do done case esac in function select export local readonly
                declare unset return exit source
                """));

        var json = new Language("JSON",
            [
                new(JsonKey(), KeyClass),
                new(DoubleQuotedLine(), StringClass),
                new(JsonNumber(), NumberClass),
            ],
            Identifier(),
            Words("true false null"));

        var python = new Language("Python",
            [
                new(HashComment(), CommentClass),
                new(PythonTripleQuoted(), StringClass),
                new(PythonQuoted(), StringClass),
                new(PythonNumber(), NumberClass),
            ],
            Identifier(),
            Words("""
                False None True and as assert async await break class continue def del elif else except finally
                for from global if import in is lambda nonlocal not or pass raise return try while with yield
                match case
                """));

        var javascript = new Language("JavaScript",
            [
                new(SlashComment(), CommentClass),
                new(BlockComment(), CommentClass),
                new(DoubleQuotedLine(), StringClass),
                new(SingleQuotedLine(), StringClass),
                new(TemplateLiteral(), StringClass),
                new(JavaScriptNumber(), NumberClass),
            ],
            JavaScriptIdentifier(),
            Words("""
                async await break case catch class const continue debugger default delete do else export extends
                false finally for from function if import in instanceof let new null of return static super
                switch this throw true try typeof undefined var void while with yield
                """));

        var csharp = new Language("C#",
            [
                new(SlashComment(), CommentClass),
                new(BlockComment(), CommentClass),
                new(CSharpRawString(), StringClass),
                new(CSharpVerbatimString(), StringClass),
                new(CSharpString(), StringClass),
                new(CSharpChar(), StringClass),
                new(CSharpNumber(), NumberClass),
            ],
            CSharpIdentifier(),
            Words("""
                abstract as async await base bool break byte case catch char checked class const continue
                decimal default delegate do double else enum event explicit extern false finally fixed float for
                foreach get goto if implicit in init int interface internal is lock long namespace new not null
                object operator or and out override params private protected public readonly record ref required
                return sbyte sealed set short sizeof stackalloc static string struct switch this throw true try
                typeof uint ulong unchecked unsafe ushort using var virtual void volatile when where while with
                yield
                """));

        var languages = new Dictionary<string, Language>(StringComparer.OrdinalIgnoreCase);
        void Add(Language language, params string[] names)
        {
            foreach (var name in names)
            {
                languages[name] = language;
            }
        }

        Add(shell, "bash", "sh", "shell", "zsh", "console");
        Add(json, "json", "jsonc");
        Add(python, "python", "py");
        Add(javascript, "javascript", "js", "mjs", "node", "typescript", "ts");
        Add(csharp, "csharp", "cs", "c#");
        return languages.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    private static FrozenSet<string> Words(string words) =>
        words.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);

    // Every pattern starts with \G: it must match exactly where the scanner stands. Unterminated
    // strings and comments run to the end of their line (or of the code), never throw.

    [GeneratedRegex(@"\G(?<=^|[\s;|&(])#[^\n]*", RegexOptions.Multiline)]
    private static partial Regex ShellComment();

    [GeneratedRegex(@"\G'[^']*'?")]
    private static partial Regex ShellSingleQuoted();

    [GeneratedRegex(@"\G""(?:[^""\\]|\\[\s\S])*""?")]
    private static partial Regex ShellDoubleQuoted();

    [GeneratedRegex(@"\G\$(?:\{[^}\n]*\}?|[A-Za-z_][A-Za-z0-9_]*|[0-9@#?$!*-])")]
    private static partial Regex ShellVariable();

    [GeneratedRegex(@"\G(?<![\w.-])\d+(?:\.\d+)?(?![\w.])")]
    private static partial Regex ShellNumber();

    [GeneratedRegex(@"\G[\w][\w./-]*")]
    private static partial Regex ShellWord();

    [GeneratedRegex(@"\G""(?:[^""\\\n]|\\.)*""(?=\s*:)")]
    private static partial Regex JsonKey();

    [GeneratedRegex(@"\G""(?:[^""\\\n]|\\.)*""?")]
    private static partial Regex DoubleQuotedLine();

    [GeneratedRegex(@"\G'(?:[^'\\\n]|\\.)*'?")]
    private static partial Regex SingleQuotedLine();

    [GeneratedRegex(@"\G-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")]
    private static partial Regex JsonNumber();

    [GeneratedRegex(@"\G[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"\G#[^\n]*")]
    private static partial Regex HashComment();

    [GeneratedRegex(@"\G(?i:[rbuf]{0,2})(""""""|''')[\s\S]*?(?:\1|\z)")]
    private static partial Regex PythonTripleQuoted();

    [GeneratedRegex(@"\G(?i:[rbuf]{0,2})([""'])(?:[^\\\n]|\\.)*?(?:\1|$)", RegexOptions.Multiline)]
    private static partial Regex PythonQuoted();

    [GeneratedRegex(@"\G(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)")]
    private static partial Regex PythonNumber();

    [GeneratedRegex(@"\G//[^\n]*")]
    private static partial Regex SlashComment();

    [GeneratedRegex(@"\G/\*[\s\S]*?(?:\*/|\z)")]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"\G`(?:[^`\\]|\\[\s\S])*`?")]
    private static partial Regex TemplateLiteral();

    [GeneratedRegex(@"\G(?:0[xX][0-9a-fA-F_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)")]
    private static partial Regex JavaScriptNumber();

    [GeneratedRegex(@"\G[A-Za-z_$][\w$]*")]
    private static partial Regex JavaScriptIdentifier();

    [GeneratedRegex(@"\G\$*""{3,}[\s\S]*?(?:""{3,}|\z)")]
    private static partial Regex CSharpRawString();

    [GeneratedRegex(@"\G(?:\$@|@\$|@)""(?:[^""]|"""")*""?")]
    private static partial Regex CSharpVerbatimString();

    [GeneratedRegex(@"\G\$?""(?:[^""\\\n]|\\.)*""?")]
    private static partial Regex CSharpString();

    [GeneratedRegex(@"\G'(?:[^'\\\n]|\\.)+'")]
    private static partial Regex CSharpChar();

    [GeneratedRegex(@"\G(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.\d[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)(?:[uU][lL]?|[lL][uU]?|[fFdDmM])?")]
    private static partial Regex CSharpNumber();

    [GeneratedRegex(@"\G@?[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex CSharpIdentifier();
}
