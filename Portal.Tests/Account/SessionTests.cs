using System.Text.RegularExpressions;
using Portal.Account;
using Portal.Audit;
using Microsoft.EntityFrameworkCore;
using Portal.Tests.Admin;
using Portal.Tests.Gateway;

namespace Portal.Tests.Account;

/// <summary>
/// The security page's list of signed-in browsers: each sign-in is a session in the store, shown in a
/// short form, and ending one from another browser signs that browser out at its next request.
/// </summary>
public sealed partial class SessionTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";
    private const string Firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

    [Fact]
    public async Task EachSignInIsListedInShortFormAndThisBrowserIsMarked()
    {
        await using var app = new PortalApplication { RemoteIp = IPAddress.Parse("203.0.113.9") };
        await app.CreateUserAsync(Email, Password);
        using var other = app.CreateBrowser();
        other.Client.DefaultRequestHeaders.UserAgent.ParseAdd(Firefox);
        Assert.Equal("/", (await other.SignInAsync(Email, Password)).RedirectTarget());
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        var html = await browser.GetPageAsync("/settings/security");
        var text = Html.Text(html);

        Assert.Single(SessionIds(html)); // the other browser, with its sign-out form; this one has none
        Assert.Equal(2, Regex.Matches(html, "signed in \\d").Count);
        Assert.Contains("Firefox on Linux", text);
        Assert.Contains("203.0.113.x", text);
        Assert.DoesNotContain("203.0.113.9", text);
        Assert.DoesNotContain("rv:128.0", text);
        Assert.Contains("this browser", text);
    }

    [Fact]
    public async Task EndingASessionSignsThatBrowserOutAtItsNextRequest()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync(Email, Password);
        using var elsewhere = await app.SignedInBrowserAsync(Email, Password);
        using var here = await app.SignedInBrowserAsync(Email, Password);
        Assert.Equal(HttpStatusCode.OK, (await elsewhere.GetAsync("/settings/profile")).StatusCode);

        var other = Assert.Single(SessionIds(await here.GetPageAsync("/settings/security")));
        var page = await (await here.SubmitFormAsync("/settings/security", $"end-session-{other}", new Dictionary<string, string>())).PageAsync();

        Assert.Contains("It has to sign in again.", Html.Successes(page).Single());
        Assert.StartsWith("/login", (await elsewhere.GetAsync("/settings/profile")).RedirectTarget());
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/settings/profile")).StatusCode);
        Assert.Empty(SessionIds(await here.GetPageAsync("/settings/security")));
        var entry = (await app.Service<AuditLog>().PageAsync(0, 50, oldestFirst: false)).Entries.First();
        Assert.Equal((AuditActions.SessionEnd, $"account:{ada.Id}"), (entry.Action, entry.Target));
    }

    [Fact]
    public async Task SigningOutEverywhereElseEndsEveryOtherSessionAndKeepsThisOne()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var first = await app.SignedInBrowserAsync(Email, Password);
        using var second = await app.SignedInBrowserAsync(Email, Password);
        using var here = await app.SignedInBrowserAsync(Email, Password);

        var page = await (await here.SubmitFormAsync("/settings/security", "end-other-sessions", new Dictionary<string, string>())).PageAsync();

        Assert.Equal(["Signed out 2 other browsers."], Html.Successes(page));
        Assert.StartsWith("/login", (await first.GetAsync("/settings/profile")).RedirectTarget());
        Assert.StartsWith("/login", (await second.GetAsync("/settings/profile")).RedirectTarget());
        // At once, and still after the security stamp's next check (this browser's cookie was renewed with the new stamp).
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/settings/profile")).StatusCode);
        app.Time.Advance(AccountExtensions.SecurityCheckInterval + TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/settings/profile")).StatusCode);
    }

    [Fact]
    public async Task SigningOutEndsTheSessionSoACopiedCookieStopsWorking()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        var cookie = browser.Cookies.GetCookies(browser.Client.BaseAddress!)[Browser.AuthCookie]!;
        using var copy = app.CreateBrowser();
        copy.Cookies.Add(browser.Client.BaseAddress!, new Cookie(cookie.Name, cookie.Value));
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/settings/profile")).StatusCode);

        await browser.SignOutAsync();

        Assert.StartsWith("/login", (await copy.GetAsync("/settings/profile")).RedirectTarget());
    }

    [Fact]
    public async Task AnotherAccountsSessionCannotBeEnded()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        var bobUser = await app.CreateUserAsync("bob@example.com", Password);
        using var bob = await app.SignedInBrowserAsync("bob@example.com", Password);
        using var ada = await app.SignedInBrowserAsync(Email, Password);
        using var adaElsewhere = await app.SignedInBrowserAsync(Email, Password);
        var bobsSession = await app.InStoreAsync(db => db.UserSessions.Where(s => s.UserId == bobUser.Id).Select(s => s.Id).SingleAsync());
        var adas = Assert.Single(SessionIds(await ada.GetPageAsync("/settings/security")));

        // Ada's own form, with bob's session id put in.
        var page = await (await ada.SubmitFormAsync("/settings/security", $"end-session-{adas}", new Dictionary<string, string> { ["SessionId"] = bobsSession })).PageAsync();

        Assert.Equal(["That browser is not signed in (any more)."], Html.Errors(page));
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/settings/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await adaElsewhere.GetAsync("/settings/profile")).StatusCode);
    }

    [Fact]
    public async Task ASignInRemovesTheAccountsEndedAndExpiredSessionsAndKeepsLiveOnes()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync(Email, Password);
        var bob = await app.CreateUserAsync("bob@example.com", Password);
        using var signedOut = await app.SignedInBrowserAsync(Email, Password);
        await signedOut.SignOutAsync();
        using var abandoned = await app.SignedInBrowserAsync(Email, Password);
        using var bobs = await app.SignedInBrowserAsync("bob@example.com", Password);
        await bobs.SignOutAsync();
        app.Time.Advance(AccountExtensions.CookieLifetime + TimeSpan.FromMinutes(10));
        using var recent = await app.SignedInBrowserAsync(Email, Password);
        app.Time.Advance(TimeSpan.FromMinutes(1));

        using var now = await app.SignedInBrowserAsync(Email, Password);

        var adas = await app.InStoreAsync(db => db.UserSessions.Where(s => s.UserId == ada.Id).CountAsync());
        Assert.Equal(2, adas); // recent and now: the signed-out and the abandoned ones are gone
        Assert.Equal(HttpStatusCode.OK, (await recent.GetAsync("/settings/profile")).StatusCode);
        // Another account's ended session is that account's to prune, at its next sign-in.
        Assert.Equal(1, await app.InStoreAsync(db => db.UserSessions.Where(s => s.UserId == bob.Id).CountAsync()));
    }

    private static List<string> SessionIds(string html) =>
        EndSessionForm().Matches(html).Select(m => m.Groups["id"].Value).ToList();

    [GeneratedRegex("name=\"_handler\" value=\"end-session-(?<id>[A-Za-z0-9_-]+)\"")]
    private static partial Regex EndSessionForm();
}
