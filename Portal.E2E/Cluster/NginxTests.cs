using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Cluster;

/// <summary>
/// The documented nginx configuration (deploy/nginx/portal.conf) in front of two instances: a browser
/// journey over the Blazor circuit, server-sent events relayed as they come, browsers kept on one
/// instance and API calls spread over both.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class NginxTests(ClusterFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private NginxProxy? _nginx;

    private PortalCluster Cluster => fixture.Cluster;

    private NginxProxy Nginx => _nginx!;

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.TestsRun)
        {
            _nginx = await NginxProxy.StartAsync(Cluster.Instances.Select(i => i.BaseAddress));
        }
    }

    public async Task DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task SignInAndAPlaygroundStreamWorkThroughNginx()
    {
        var user = (await Cluster.CreateApiAccountAsync(credits: 2m)).Account;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await PortalFixture.LaunchChromiumAsync(playwright);
        // Two browsers, each with its own routing cookie: most likely one on each instance.
        for (var visit = 0; visit < 2; visit++)
        {
            await using var context = await browser.NewContextAsync(new() { BaseURL = Nginx.BaseAddress.ToString(), Locale = "en-US", TimezoneId = "UTC" });
            context.SetDefaultTimeout(20_000);
            var page = await context.NewPageAsync();
            try
            {
                var login = new LoginPage(page);
                await login.GotoAsync();
                await login.SignInAsync(user);
                await Expect(login.Header.UserEmail).ToHaveTextAsync(user.Email, new() { Timeout = 20_000 });

                var playground = new PlaygroundPage(page);
                await playground.GotoAsync();
                await playground.AskAsync("Say hello in a few words.");
                await Expect(playground.LastReplyText).Not.ToBeEmptyAsync(new() { Timeout = 20_000 });
                await Expect(playground.LastReplyUsage).ToContainTextAsync(new Regex(@"\d+ in · \d+ out · \$0\.\d+"), new() { Timeout = 20_000 });
                Assert.Contains(await context.CookiesAsync(), c => c.Name == "portal_node" && c.HttpOnly);
            }
            catch
            {
                Directory.CreateDirectory(BrowserTest.ArtifactsFolder);
                await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserTest.ArtifactsFolder, $"{nameof(NginxTests)}-{visit}.png"), FullPage = true });
                output.WriteLine(Nginx.ErrorLog);
                throw;
            }
        }
    }

    [PostgresFact]
    public async Task AnApiStreamThroughNginxArrivesChunkByChunk()
    {
        var api = await Cluster.CreateApiAccountAsync(credits: 1m);
        using var client = new HttpClient { BaseAddress = Nginx.BaseAddress };
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
        {
            Headers = { { "Authorization", $"Bearer {api.Key}" } },
            // At the instances' 40 tokens a second, 80 tokens take about two seconds to stream.
            Content = new StringContent("""{"model":"glm-5","messages":[{"role":"user","content":"Write a long essay about rivers."}],"max_tokens":80,"stream":true}""", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var clock = Stopwatch.StartNew();
        var arrivals = new List<TimeSpan>();
        while (await reader.ReadLineAsync() is { } line && line != "data: [DONE]")
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                arrivals.Add(clock.Elapsed);
            }
        }

        var done = clock.Elapsed;
        output.WriteLine($"{arrivals.Count} chunks; first after {arrivals[0].TotalMilliseconds:0} ms, [DONE] after {done.TotalMilliseconds:0} ms");
        // A buffering proxy would hand over every chunk at once, at the end.
        Assert.True(arrivals.Count >= 10, $"only {arrivals.Count} chunks");
        Assert.True(done - arrivals[0] >= TimeSpan.FromSeconds(1), $"the chunks arrived together ({arrivals[0].TotalMilliseconds:0} ms → {done.TotalMilliseconds:0} ms): nginx buffered the stream");
        Assert.True(arrivals.Count(a => done - a >= TimeSpan.FromMilliseconds(500)) >= arrivals.Count / 4, "most chunks arrived at the very end");
    }

    [PostgresFact]
    public async Task ABrowsersCookieKeepsItOnOneInstanceWhileApiCallsSpread()
    {
        var api = await Cluster.CreateApiAccountAsync(credits: 1m, rateLimitPerMinute: 10_000);
        // Like OpenAI's SDKs, no cookie jar: nginx's routing cookie is not sent back.
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = Nginx.BaseAddress };
        const string body = """{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":2}""";

        async Task SendAsync(string? routingCookie)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
            {
                Headers = { { "Authorization", $"Bearer {api.Key}" } },
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            if (routingCookie is not null)
            {
                request.Headers.Add("Cookie", $"portal_node={routingCookie}");
            }

            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        var before = await CompletionsPerInstanceAsync();
        for (var i = 0; i < 8; i++)
        {
            await SendAsync("a-browser");
        }

        var sticky = Delta(before, await CompletionsPerInstanceAsync());
        Assert.Equal([0, 8], sticky.Order());

        before = await CompletionsPerInstanceAsync();
        for (var i = 0; i < 20; i++)
        {
            await SendAsync(null);
        }

        var spread = Delta(before, await CompletionsPerInstanceAsync());
        output.WriteLine($"with a cookie: {string.Join(" + ", sticky)}; without: {string.Join(" + ", spread)}");
        Assert.Equal(20, spread.Sum());
        Assert.All(spread, n => Assert.True(n > 0, $"one instance got all 20 API calls: {string.Join(" + ", spread)}"));
    }

    /// <summary>Each instance's completed chat completions, from its own /metrics (read directly, on loopback).</summary>
    private async Task<long[]> CompletionsPerInstanceAsync()
    {
        using var http = new HttpClient();
        var counts = new List<long>();
        foreach (var instance in Cluster.Instances)
        {
            var text = await http.GetStringAsync(new Uri(instance.BaseAddress, "/metrics"));
            counts.Add(RequestsTotal().Matches(text).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        }

        return [.. counts];
    }

    private static long[] Delta(long[] before, long[] after) => [.. after.Zip(before, (a, b) => a - b)];

    [GeneratedRegex(@"^portal_requests_total\{[^}]*\} (\d+)$", RegexOptions.Multiline)]
    private static partial Regex RequestsTotal();
}
