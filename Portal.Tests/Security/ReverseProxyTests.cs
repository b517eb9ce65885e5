using Microsoft.AspNetCore.Mvc.Testing;

namespace Portal.Tests.Security;

/// <summary>
/// Behind nginx: X-Forwarded-Proto and X-Forwarded-For are believed from a proxy on this machine (or
/// one named in ReverseProxy:KnownProxies), never from anyone else.
/// </summary>
public sealed class ReverseProxyTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ALocalProxysHttpsMakesRedirectsAndCookiesHttps()
    {
        _app.RemoteIp = IPAddress.Loopback;

        var redirect = await SendAsync("/settings/apikeys", ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "198.51.100.4"));

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.StartsWith("https://localhost/login", redirect.Headers.Location!.ToString());
        await _app.CreateUserAsync("ada@example.com", "correct horse battery");
        using var browser = _app.CreateBrowser();
        browser.Client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        var signedIn = await browser.SignInAsync("ada@example.com", "correct horse battery");
        var authCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(Browser.AuthCookie + "=", StringComparison.Ordinal));
        Assert.Contains("; secure", authCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ForwardedHeadersFromAnyoneElseAreIgnored()
    {
        _app.RemoteIp = IPAddress.Parse("203.0.113.7");

        var redirect = await SendAsync("/settings/apikeys", ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "127.0.0.1"));

        Assert.StartsWith("http://localhost/login", redirect.Headers.Location!.ToString());
        // Nor does a forged loopback address open /metrics.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync("/metrics", ("X-Forwarded-For", "127.0.0.1"))).StatusCode);
    }

    [Fact]
    public async Task AProxyElsewhereIsBelievedOnlyWhenNamed()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["ReverseProxy:KnownProxies:0"] = "10.0.0.5" })
        {
            RemoteIp = IPAddress.Parse("10.0.0.5"),
        };
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var request = new HttpRequestMessage(HttpMethod.Get, "/settings/apikeys") { Headers = { { "X-Forwarded-Proto", "https" } } };

        Assert.StartsWith("https://", (await client.SendAsync(request)).Headers.Location!.ToString());
    }

    private async Task<HttpResponseMessage> SendAsync(string path, params (string Name, string Value)[] headers)
    {
        using var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request);
    }
}
