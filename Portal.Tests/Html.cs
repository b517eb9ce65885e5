using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Tests;

/// <summary>
/// Just enough HTML reading for statically rendered pages: the hidden fields of one form, and the
/// texts a user would read as errors. Regular expressions suffice because Blazor's output is regular.
/// </summary>
public static partial class Html
{
    /// <summary>
    /// The form whose Blazor form name is <paramref name="formName"/>: where it posts, and its hidden
    /// inputs (<c>_handler</c>, <c>__RequestVerificationToken</c>). Fails the test if there is none.
    /// </summary>
    public static HtmlForm Form(string html, string formName)
    {
        foreach (Match form in FormPattern().Matches(html))
        {
            var fields = InputPattern().Matches(form.Value)
                .Select(input => (Attribute(input.Value, "type"), Attribute(input.Value, "name"), Attribute(input.Value, "value")))
                .Where(f => f.Item1 == "hidden" && f.Item2 is not null)
                .ToDictionary(f => f.Item2!, f => f.Item3 ?? "");
            if (fields.GetValueOrDefault("_handler") == formName)
            {
                Assert.True(fields.ContainsKey("__RequestVerificationToken"), $"form '{formName}' has no antiforgery token");
                return new HtmlForm(Attribute(FormTag().Match(form.Value).Value, "action"), fields);
            }
        }

        Assert.Fail($"The page has no form named '{formName}':\n{html}");
        return new HtmlForm(null, []);
    }

    /// <summary>Texts of the account pages' error boxes (a <c>MudAlert</c> of severity Error), decoded.</summary>
    public static IReadOnlyList<string> Errors(string html) => Alerts(html, "error");

    /// <summary>Texts of the account pages' success boxes (a <c>MudAlert</c> of severity Success), decoded.</summary>
    public static IReadOnlyList<string> Successes(string html) => Alerts(html, "success");

    /// <summary>
    /// Per-field validation messages, decoded: a MudBlazor field's error line, or Blazor's own
    /// <c>ValidationMessage</c>.
    /// </summary>
    public static IReadOnlyList<string> ValidationMessages(string html) =>
        FieldErrorPattern().Matches(html).Concat(ValidationPattern().Matches(html))
            .Select(m => Text(m.Groups["text"].Value)).ToList();

    /// <summary>The page as a user reads it: tags dropped, entities decoded, whitespace collapsed.</summary>
    public static string Text(string html) =>
        Whitespace().Replace(WebUtility.HtmlDecode(Tag().Replace(html, " ")), " ").Trim();

    // MudAlert marks its severity as mud-alert-{variant}-{severity}, e.g. mud-alert-outlined-error.
    private static List<string> Alerts(string html, string severity) =>
        AlertPattern().Matches(html)
            .Where(m => m.Groups["class"].Value.Split(' ').Any(c => c.StartsWith("mud-alert-", StringComparison.Ordinal) && c.EndsWith("-" + severity, StringComparison.Ordinal)))
            .Select(m => Text(m.Groups["text"].Value))
            .ToList();

    private static string? Attribute(string tag, string name)
    {
        var match = Regex.Match(tag, "\\s" + Regex.Escape(name) + "=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase);
        return match.Success ? WebUtility.HtmlDecode(match.Groups["value"].Value) : null;
    }

    [GeneratedRegex("<form\\b.*?</form>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex FormPattern();

    [GeneratedRegex("^<form\\b[^>]*>")]
    private static partial Regex FormTag();

    [GeneratedRegex("<input\\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InputPattern();

    [GeneratedRegex("<div\\s+role=\"(?:alert|status)\"\\s+class=\"(?<class>[^\"]*\\bmud-alert\\b[^\"]*)\"[^>]*>.*?<div class=\"mud-alert-message\">(?<text>.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex AlertPattern();

    [GeneratedRegex("<div\\s+class=\"[^\"]*\\bmud-input-helper-text\\b[^\"]*\\bmud-input-error\\b[^\"]*\"[^>]*>\\s*<div[^>]*>(?<text>[^<]*)</div>")]
    private static partial Regex FieldErrorPattern();

    [GeneratedRegex("<div[^>]*\\bclass=\"[^\"]*\\b(?:validation-message|field-error)\\b[^\"]*\"[^>]*>(?<text>[^<]*)</div>")]
    private static partial Regex ValidationPattern();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex("\\s+")]
    private static partial Regex Whitespace();
}

/// <param name="Action">Where the form posts; null means back to the page's own URL.</param>
/// <param name="Fields">The form's hidden fields.</param>
public sealed record HtmlForm(string? Action, Dictionary<string, string> Fields);
