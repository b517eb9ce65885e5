using System.Text.Json;
using Portal.Account;
using Portal.Audit;
using Portal.Tests.Admin;

namespace Portal.Tests.Account;

/// <summary>
/// The server side of passkeys that needs no authenticator: who gets WebAuthn options, and that
/// anything but a verified credential is refused with a message and changes nothing. The whole
/// ceremony, with a virtual authenticator in Chromium, is PasskeyJourneyTests (Portal.E2E).
/// </summary>
public sealed class PasskeyTests
{
    private const string Email = "ada@example.com";
    private const string Password = "correct horse battery";

    [Fact]
    public async Task OnlyASignedInUserGetsOptionsToMakeAPasskeyNamedAfterTheirAccount()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync(Email, Password);
        using var anonymous = app.CreateBrowser();
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        Assert.Equal(HttpStatusCode.Unauthorized, (await OptionsAsync(anonymous, PasskeyEndpoints.CreationOptions, "/login", "login-passkey")).StatusCode);
        var response = await OptionsAsync(browser, PasskeyEndpoints.CreationOptions, "/settings/security", "add-passkey");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var options = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Email, options.RootElement.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("localhost", options.RootElement.GetProperty("rp").GetProperty("id").GetString());
        Assert.True(options.RootElement.GetProperty("challenge").GetString()!.Length >= 40);
        Assert.DoesNotContain(ada.PasswordHash!, options.RootElement.GetRawText());
    }

    [Fact]
    public async Task AnyoneGetsOptionsToUseAPasskeyAndEachHasAFreshChallenge()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var first = JsonDocument.Parse(await (await OptionsAsync(browser, PasskeyEndpoints.RequestOptions, "/login", "login-passkey")).Content.ReadAsStringAsync());
        var second = JsonDocument.Parse(await (await OptionsAsync(browser, PasskeyEndpoints.RequestOptions, "/login", "login-passkey")).Content.ReadAsStringAsync());

        Assert.NotEqual(first.RootElement.GetProperty("challenge").GetString(), second.RootElement.GetProperty("challenge").GetString());
        // No account named: the authenticator offers whichever passkey it holds for this site.
        Assert.False(first.RootElement.TryGetProperty("allowCredentials", out var allowed) && allowed.GetArrayLength() > 0);
    }

    [Theory]
    [InlineData("", "cancelled", PasskeySignIn.Cancelled)]
    [InlineData("not json at all", "", PasskeySignIn.Refused)]
    [InlineData("""{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"}}""", "", PasskeySignIn.Refused)]
    public async Task ASignInWithoutAVerifiedPasskeyIsRefusedWithAMessage(string credential, string error, string message)
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = app.CreateBrowser();
        // As the script does: options first (Identity keeps the challenge), then the form.
        await OptionsAsync(browser, PasskeyEndpoints.RequestOptions, "/login", "login-passkey");

        var page = await (await browser.SubmitFormAsync("/login", "login-passkey", new Dictionary<string, string>
        {
            ["Passkey.CredentialJson"] = credential,
            ["Passkey.Error"] = error,
        })).PageAsync();

        Assert.Equal([message], Html.Errors(page));
        Assert.False(browser.HasAuthCookie);
    }

    [Fact]
    public async Task APasskeyThatIsNotAVerifiedCredentialIsNotAdded()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);
        await OptionsAsync(browser, PasskeyEndpoints.CreationOptions, "/settings/security", "add-passkey");

        var page = await (await browser.SubmitFormAsync("/settings/security", "add-passkey", new Dictionary<string, string>
        {
            ["Passkey.CredentialJson"] = """{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"AAAA"}}""",
        })).PageAsync();

        Assert.Equal(["That passkey could not be added. Try again."], Html.Errors(page));
        Assert.Contains("data-testid=\"no-passkeys\"", page);
        Assert.DoesNotContain((await app.Service<AuditLog>().PageAsync(0, 50, oldestFirst: true)).Entries, e => e.Action == AuditActions.PasskeyAdd);
    }

    [Fact]
    public async Task OptionsNeedThePagesAntiforgeryToken()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync(Email, Password);
        using var browser = await app.SignedInBrowserAsync(Email, Password);

        Assert.Equal(HttpStatusCode.BadRequest, (await browser.Client.PostAsync(PasskeyEndpoints.CreationOptions, null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.Client.PostAsync(PasskeyEndpoints.RequestOptions, null)).StatusCode);
    }

    /// <summary>As wwwroot/passkeys.js asks: a POST with the antiforgery token of the form on <paramref name="page"/> as a header.</summary>
    private static async Task<HttpResponseMessage> OptionsAsync(Browser browser, string url, string page, string formName)
    {
        var token = Html.Form(await browser.GetPageAsync(page), formName).Fields["__RequestVerificationToken"];
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Add("RequestVerificationToken", token);
        return await browser.Client.SendAsync(request);
    }
}
