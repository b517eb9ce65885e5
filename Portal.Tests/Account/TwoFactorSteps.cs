using System.Text.RegularExpressions;

namespace Portal.Tests.Account;

/// <summary>The two-factor pages as a user goes through them, for the tests.</summary>
public static partial class TwoFactorSteps
{
    public const string SecurityPage = "/settings/security";
    public const string AuthenticatorPage = "/settings/security/authenticator";

    /// <summary>Reads the key the set-up page shows (as a user would type it into an app).</summary>
    public static async Task<string> ReadKeyAsync(Browser browser)
    {
        var page = await browser.GetPageAsync(AuthenticatorPage);
        var match = KeyPattern().Match(page);
        Assert.True(match.Success, "the set-up page shows no key");
        return match.Groups["key"].Value;
    }

    public static Task<HttpResponseMessage> SubmitSetUpCodeAsync(Browser browser, string code) =>
        browser.SubmitFormAsync(AuthenticatorPage, "enable-authenticator", new Dictionary<string, string> { ["Input.Code"] = code });

    /// <summary>Turns two-factor sign-in on with a code computed from the page's key; returns the key and the recovery codes shown.</summary>
    public static async Task<(string Key, IReadOnlyList<string> RecoveryCodes)> EnableAsync(Browser browser)
    {
        var key = await ReadKeyAsync(browser);
        var page = await (await SubmitSetUpCodeAsync(browser, Totp.Now(key))).PageAsync();
        return (key, RecoveryCodes(page));
    }

    public static IReadOnlyList<string> RecoveryCodes(string html)
    {
        var list = CodesPattern().Match(html);
        return list.Success ? ItemPattern().Matches(list.Value).Select(m => m.Groups["code"].Value).ToList() : [];
    }

    /// <summary>Posts the code on the second step the password step redirected to.</summary>
    public static Task<HttpResponseMessage> SubmitCodeAsync(Browser browser, string stepUrl, string code, bool rememberBrowser = false)
    {
        var fields = new Dictionary<string, string> { ["Input.Code"] = code };
        if (rememberBrowser)
        {
            fields["Input.RememberBrowser"] = "true";
        }

        return browser.SubmitFormAsync(stepUrl, "login-two-factor", fields);
    }

    public static Task<HttpResponseMessage> SubmitRecoveryCodeAsync(Browser browser, string stepUrl, string code) =>
        browser.SubmitFormAsync(stepUrl.Replace("/login/two-factor", "/login/recovery-code"), "login-recovery-code",
            new Dictionary<string, string> { ["Input.Code"] = code });

    [GeneratedRegex("<code data-testid=\"authenticator-key\">(?<key>[^<]+)</code>")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("<ol[^>]*data-testid=\"recovery-codes\".*?</ol>", RegexOptions.Singleline)]
    private static partial Regex CodesPattern();

    [GeneratedRegex("<li><code>(?<code>[^<]+)</code></li>")]
    private static partial Regex ItemPattern();
}
