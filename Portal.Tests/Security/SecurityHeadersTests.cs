namespace Portal.Tests.Security;

public sealed class SecurityHeadersTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Theory]
    [InlineData("/", HttpStatusCode.OK)]
    [InlineData("/login", HttpStatusCode.OK)]
    [InlineData("/docs", HttpStatusCode.OK)]
    [InlineData("/settings/apikeys", HttpStatusCode.Redirect)]
    [InlineData("/no-such-page", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/models", HttpStatusCode.Unauthorized)]
    [InlineData("/api/v1/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("/healthz", HttpStatusCode.OK)]
    [InlineData("/app.css", HttpStatusCode.OK)]
    public async Task EveryResponseCarriesTheSecurityHeaders(string path, HttpStatusCode status)
    {
        using var browser = _app.CreateBrowser();

        var response = await browser.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("connect-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("base-uri 'self'", csp);
        Assert.Contains("form-action 'self'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
    }

    [Fact]
    public async Task PagesHaveNoInlineScriptTheCspWouldBlock()
    {
        using var browser = _app.CreateBrowser();
        foreach (var path in new[] { "/", "/login", "/signup", "/docs", "/docs/quickstart" })
        {
            var html = await browser.GetPageAsync(path);

            // Every <script> loads a file from this origin; none carries code of its own, and no
            // element has an on* handler attribute.
            Assert.All(System.Text.RegularExpressions.Regex.Matches(html, "<script\\b[^>]*>(?<body>.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline),
                m =>
                {
                    Assert.Contains("src=\"", m.Value);
                    Assert.True(string.IsNullOrWhiteSpace(m.Groups["body"].Value), $"{path} has an inline script: {m.Value}");
                });
            Assert.DoesNotMatch("<[^>]+\\son[a-z]+=", html);
            Assert.DoesNotContain("javascript:", html);
        }
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : throw new Xunit.Sdk.XunitException($"{response.RequestMessage!.RequestUri} has no {name} header");
}
