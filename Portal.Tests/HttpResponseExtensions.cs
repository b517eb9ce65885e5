namespace Portal.Tests;

public static class HttpResponseExtensions
{
    /// <summary>
    /// Where a 302 sends the browser: the path and query when it stays on this site, else the full
    /// URL (so an off-site redirect can never compare equal to a local path).
    /// </summary>
    public static string RedirectTarget(this HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            // The content is already buffered; showing the page's errors says why there was no redirect.
            var html = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            Assert.Fail($"expected a redirect, got {(int)response.StatusCode}; errors shown: [{string.Join(" | ", Html.Errors(html).Concat(Html.ValidationMessages(html)))}]");
        }

        var location = response.Headers.Location ?? throw new InvalidOperationException("a redirect without Location");
        var target = new Uri(response.RequestMessage!.RequestUri!, location);
        return target.Host == "localhost" ? target.PathAndQuery : target.AbsoluteUri;
    }

    /// <summary>The HTML of a page that must have rendered (200), e.g. a form shown again with errors.</summary>
    public static async Task<string> PageAsync(this HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected the page again (200), got {(int)response.StatusCode} → {response.Headers.Location}");
        return html;
    }
}
