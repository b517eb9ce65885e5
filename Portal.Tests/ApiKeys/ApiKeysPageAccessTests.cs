using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

/// <summary>The page as the server serves it: who may load it, and what its prerendered HTML holds.</summary>
public sealed class ApiKeysPageAccessTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task AnAnonymousVisitorIsSentToLogin()
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.GetAsync("/settings/apikeys");

        Assert.Equal("/login?ReturnUrl=%2Fsettings%2Fapikeys", response.RedirectTarget());
    }

    /// <summary>
    /// The list itself arrives over the circuit (the grid asks the store once the page is live; see
    /// KeyListTests for whose keys it shows): the HTML served first holds no key of anyone's.
    /// </summary>
    [Fact]
    public async Task TheServedPageHoldsNoPlaintextAndNoOtherUsersKey()
    {
        await using var app = new PortalApplication();
        var ada = await app.CreateUserAsync("ada@example.com", Password);
        var bob = await app.CreateUserAsync("bob@example.com", Password);
        var keys = app.Services.GetRequiredService<ApiKeyService>();
        var (_, adasPlaintext) = await keys.CreateAsync(ada.Id, new NewApiKey("ada's key"));
        await keys.CreateAsync(bob.Id, new NewApiKey("bob's key"));
        using var browser = await app.SignedInBrowserAsync("ada@example.com", Password);

        // Decoded, tags kept: a secret in an attribute would count too.
        var html = WebUtility.HtmlDecode(await browser.GetPageAsync("/settings/apikeys"));

        Assert.Contains("<title>API keys · Portal</title>", html);
        Assert.Contains("aria-label=\"Your API keys\"", html);
        Assert.DoesNotContain(adasPlaintext[14..^4], html);
        Assert.DoesNotContain("bob's key", html);
    }
}
