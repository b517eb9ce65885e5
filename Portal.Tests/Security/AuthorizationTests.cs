using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Tests.Gateway;

namespace Portal.Tests.Security;

/// <summary>
/// Who may reach what, on the server: every route the app maps, whatever renders it; one
/// user's data through another's key or session; antiforgery on the account forms.
/// </summary>
public sealed class AuthorizationTests : IDisposable
{
    private const string Password = "correct horse battery";

    private enum Access
    {
        Public,
        SignedIn,
        Admin,
        ApiKey,
        Framework,
        LoopbackOrToken,
        /// <summary>Anyone may post it (with the page's antiforgery token, ThemeSwitchTests); nothing to GET.</summary>
        PublicForm,
        /// <summary>A mailed link's page: anyone may open it; without a valid link it explains why, with 400.</summary>
        PublicLink,
        /// <summary>Posted by wwwroot/passkeys.js (PasskeyOptionsTests say who may); nothing to GET.</summary>
        PasskeyOptions,
        /// <summary>Posted by a signed-in user's form with its antiforgery token (SqliteRedemptionCodeTests); nothing to GET.</summary>
        SignedInForm,
        /// <summary>An organization's page: its members only; anyone else signed in gets 404, as for no such organization (OrganizationAccessTests).</summary>
        OrganizationMember,
    }

    /// <summary>
    /// Every route pattern and who may use it. A route missing here fails the first test: whoever
    /// adds an endpoint decides its access here too.
    /// </summary>
    private const string SomeOrganization = "6f1c2d3e-0000-4000-8000-000000000001";

    private static readonly Dictionary<string, (Access Access, string Sample)> Routes = new()
    {
        ["/"] = (Access.Public, "/"),
        ["/docs"] = (Access.Public, "/docs"),
        ["/docs/{Slug}"] = (Access.Public, "/docs/quickstart"),
        ["/login"] = (Access.Public, "/login"),
        ["/signup"] = (Access.Public, "/signup"),
        ["/logout"] = (Access.Public, "/logout"),
        ["/access-denied"] = (Access.Public, "/access-denied"),
        ["/forgot-password"] = (Access.Public, "/forgot-password"),
        ["/reset-password"] = (Access.Public, "/reset-password"),
        ["/account/confirm-email"] = (Access.PublicLink, "/account/confirm-email"),
        ["/account/confirm-email-change"] = (Access.PublicLink, "/account/confirm-email-change"),
        ["/not-found"] = (Access.Public, "/not-found"),
        ["/error"] = (Access.Public, "/error"),
        ["/theme"] = (Access.PublicForm, "/theme"),
        ["/healthz"] = (Access.Public, "/healthz"),
        ["/readyz"] = (Access.Public, "/readyz"),
        ["/metrics"] = (Access.LoopbackOrToken, "/metrics"),
        ["/status"] = (Access.Public, "/status"),
        ["/dashboard"] = (Access.SignedIn, "/dashboard"),
        ["/dashboard/requests.csv"] = (Access.SignedIn, "/dashboard/requests.csv"),
        ["/dashboard/redeem"] = (Access.SignedInForm, "/dashboard/redeem"),
        ["/playground"] = (Access.SignedIn, "/playground"),
        ["/settings/apikeys"] = (Access.SignedIn, "/settings/apikeys"),
        ["/settings/profile"] = (Access.SignedIn, "/settings/profile"),
        ["/settings/security"] = (Access.SignedIn, "/settings/security"),
        ["/settings/security/authenticator"] = (Access.SignedIn, "/settings/security/authenticator"),
        ["/login/two-factor"] = (Access.Public, "/login/two-factor"),
        ["/login/recovery-code"] = (Access.Public, "/login/recovery-code"),
        ["/account/passkey/creation-options"] = (Access.PasskeyOptions, "/account/passkey/creation-options"),
        ["/account/passkey/request-options"] = (Access.PasskeyOptions, "/account/passkey/request-options"),
        ["/admin"] = (Access.Admin, "/admin"),
        ["/admin/models"] = (Access.Admin, "/admin/models"),
        ["/admin/upstreams"] = (Access.Admin, "/admin/upstreams"),
        ["/admin/service"] = (Access.Admin, "/admin/service"),
        ["/admin/audit"] = (Access.Admin, "/admin/audit"),
        ["/admin/codes"] = (Access.Admin, "/admin/codes"),
        ["/admin/organizations"] = (Access.Admin, "/admin/organizations"),
        ["/orgs/accept"] = (Access.SignedIn, "/orgs/accept"),
        ["/orgs/new"] = (Access.SignedIn, "/orgs/new"),
        ["/orgs/{Id}"] = (Access.OrganizationMember, "/orgs/" + SomeOrganization),
        ["/orgs/{Id}/keys"] = (Access.OrganizationMember, $"/orgs/{SomeOrganization}/keys"),
        ["/orgs/{Id}/members"] = (Access.OrganizationMember, $"/orgs/{SomeOrganization}/members"),
        ["/orgs/{Id}/settings"] = (Access.OrganizationMember, $"/orgs/{SomeOrganization}/settings"),
        ["/orgs/{id}/requests.csv"] = (Access.OrganizationMember, $"/orgs/{SomeOrganization}/requests.csv"),
        ["/admin/outbox"] = (Access.Admin, "/admin/outbox"),
        ["/api/v1/models"] = (Access.ApiKey, "/api/v1/models"),
        ["/api/v1/models/{**id}"] = (Access.ApiKey, "/api/v1/models/glm-5"),
        ["/api/v1/credits"] = (Access.ApiKey, "/api/v1/credits"),
        ["/api/v1/key"] = (Access.ApiKey, "/api/v1/key"),
        ["/api/v1/usage"] = (Access.ApiKey, "/api/v1/usage"),
        ["/api/v1/chat/completions"] = (Access.ApiKey, "/api/v1/chat/completions"),
        ["/api/v1/messages"] = (Access.ApiKey, "/api/v1/messages"),
        ["/api/v1/messages/count_tokens"] = (Access.ApiKey, "/api/v1/messages/count_tokens"),
        ["/api/v1/responses"] = (Access.ApiKey, "/api/v1/responses"),
        ["/api/v1/responses/{id}"] = (Access.ApiKey, "/api/v1/responses/resp_0"),
        ["/api/v1/openapi.json"] = (Access.Public, "/api/v1/openapi.json"),
    };

    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public void EveryMappedRouteHasADecidedAccess()
    {
        var patterns = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor>() is null) // wwwroot's public files
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Where(p => !IsFramework(p))
            .ToHashSet();

        Assert.Equal(Routes.Keys.Order(), patterns.Order());
    }

    [Fact]
    public async Task AnonymousVisitorsReachOnlyPublicRoutes()
    {
        _app.RemoteIp = IPAddress.Parse("203.0.113.7");
        using var browser = _app.CreateBrowser();
        foreach (var (pattern, (access, sample)) in Routes)
        {
            var response = access == Access.ApiKey && (pattern.EndsWith("completions", StringComparison.Ordinal) || pattern.StartsWith("/api/v1/messages", StringComparison.Ordinal))
                ? await browser.Client.PostAsync(sample, new StringContent("""{"model":"glm-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"))
                : access == Access.ApiKey && pattern.EndsWith("/responses", StringComparison.Ordinal)
                    ? await browser.Client.PostAsync(sample, new StringContent("""{"model":"glm-5","input":"hi"}""", System.Text.Encoding.UTF8, "application/json"))
                    : await browser.GetAsync(sample);
            var expected = access switch
            {
                Access.Public => HttpStatusCode.OK,
                Access.SignedIn or Access.Admin or Access.OrganizationMember => HttpStatusCode.Redirect,
                Access.ApiKey => HttpStatusCode.Unauthorized,
                Access.PublicForm or Access.PasskeyOptions or Access.SignedInForm => HttpStatusCode.NotFound, // GET: there is no such page
                Access.PublicLink => HttpStatusCode.BadRequest,
                _ => HttpStatusCode.Forbidden,
            };
            Assert.True(expected == response.StatusCode, $"anonymous {sample}: {(int)response.StatusCode}, expected {(int)expected}");
            if (expected == HttpStatusCode.Redirect)
            {
                Assert.StartsWith("/login?ReturnUrl=", response.RedirectTarget());
            }
        }
    }

    [Fact]
    public async Task ASignedInUserReachesTheirPagesButNoAdminRoute()
    {
        await _app.CreateUserAsync("ada@example.com", Password);
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);
        foreach (var (_, (access, sample)) in Routes.Where(r => r.Value.Access is Access.SignedIn or Access.Admin or Access.OrganizationMember))
        {
            var response = await browser.GetAsync(sample);
            if (access == Access.SignedIn)
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{sample}: {(int)response.StatusCode}");
            }
            else if (access == Access.OrganizationMember)
            {
                // No such organization, and not hers: the same answer as for another's (OrganizationAccessTests).
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{sample}: {(int)response.StatusCode}");
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{sample}: {(int)response.StatusCode}");
                Assert.StartsWith("/access-denied", response.RedirectTarget());
            }
        }
    }

    [Fact]
    public async Task AKeySeesOnlyItsOwnersCreditsAndItself()
    {
        var ada = await _app.CreateApiAccountAsync(credits: 3m, key: new NewApiKey("ada's key"));
        var bob = await _app.CreateApiAccountAsync(credits: 7m, key: new NewApiKey("bob's key"));
        var client = _app.ApiClient(ada.Key);

        var credits = await (await client.GetAsync("/api/v1/credits")).Content.ReadAsStringAsync();
        var key = await (await client.GetAsync("/api/v1/key")).Content.ReadAsStringAsync();

        Assert.Contains("\"balance\":3", credits);
        Assert.DoesNotContain("7", credits);
        Assert.Contains("ada's key", System.Text.RegularExpressions.Regex.Unescape(key));
        Assert.DoesNotContain("bob", key);
        Assert.DoesNotContain(bob.KeyId, key);
    }

    [Fact]
    public async Task NothingButTheKeyItselfAuthenticates()
    {
        var bob = await _app.CreateApiAccountAsync(credits: 1m);
        var stored = await _app.InStoreAsync(db => Task.FromResult(db.ApiKeys.Single(k => k.Id == bob.KeyId)));

        // What another user could learn of bob's key: its id, its masked form, its prefix and last
        // characters; and its stored hash, should the store leak.
        foreach (var guess in new[] { bob.KeyId, stored.Masked(), stored.Prefix + stored.Last4, stored.Hash, bob.Key.ToUpperInvariant(), bob.Key[..^1] })
        {
            var response = await _app.ApiClient(guess).GetAsync("/api/v1/credits");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"'{guess}' was accepted as a key");
        }
    }

    [Theory]
    [InlineData("/login", "login")]
    [InlineData("/signup", "signup")]
    [InlineData("/logout", "logout")]
    [InlineData("/settings/profile", "change-password")]
    [InlineData("/dashboard", "redeem")]
    public async Task AccountFormsRefuseAPostWithoutItsAntiforgeryToken(string url, string formName)
    {
        await _app.CreateUserAsync("ada@example.com", Password);
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);
        var form = Html.Form(await browser.GetPageAsync(url), formName);
        var fields = new Dictionary<string, string>(form.Fields)
        {
            ["Input.Email"] = "new@example.com",
            ["Input.Password"] = "another long passphrase",
            ["Input.ConfirmPassword"] = "another long passphrase",
            ["Input.CurrentPassword"] = Password,
            ["Input.NewPassword"] = "another long passphrase",
        };
        fields.Remove("__RequestVerificationToken");

        var withoutToken = await browser.Client.PostAsync(form.Action ?? url, new FormUrlEncodedContent(fields));

        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        // A token from another visitor's page doesn't do either: it is bound to that visitor.
        using var stranger = _app.CreateBrowser();
        var strangersToken = Html.Form(await stranger.GetPageAsync("/login"), "login").Fields["__RequestVerificationToken"];
        fields["__RequestVerificationToken"] = strangersToken;
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.Client.PostAsync(form.Action ?? url, new FormUrlEncodedContent(fields))).StatusCode);
        // Nothing happened: no account, the password unchanged, still signed in.
        Assert.Null(await _app.FindUserAsync("new@example.com"));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/settings/profile")).StatusCode);
        using var again = await _app.SignedInBrowserAsync("ada@example.com", Password);
    }

    /// <summary>Blazor's own endpoints: its script, the circuit hub, enhanced-navigation plumbing.</summary>
    // Blazor's own endpoints, and the static-assets fallback for files added since the build (Development).
    private static bool IsFramework(string pattern) =>
        pattern.StartsWith("/_blazor", StringComparison.Ordinal) || pattern.StartsWith("/_framework", StringComparison.Ordinal)
        || pattern == "/{**path:file}";
}
