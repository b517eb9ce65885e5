using System.Diagnostics;
using System.Net;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Cluster;

/// <summary>
/// Two Portal processes on one PostgreSQL: what one instance (or the CLI) changes holds on the other —
/// a key's rate limit is one budget, a revocation (in the browser) and the API switch (CLI) reach it
/// within a second.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TwoInstanceTests(ClusterFixture fixture)
{
    /// <summary>The one-second cache of keys and settings, plus room for a busy 2-core machine to answer.</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1.5);

    private PortalCluster Cluster => fixture.Cluster;

    [PostgresFact]
    public async Task OneKeysLimitHoldsAcrossBothInstances()
    {
        var api = await Cluster.CreateApiAccountAsync(credits: 0, rateLimitPerMinute: 60);
        using var a = Cluster.ApiClient(0, api.Key);
        using var b = Cluster.ApiClient(1, api.Key);
        using var gate = new SemaphoreSlim(10);

        var clock = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 120).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var response = await (i % 2 == 0 ? a : b).GetAsync("/api/v1/key");
                return (Instance: i % 2, Response: response);
            }
            finally
            {
                gate.Release();
            }
        }));
        var elapsed = clock.Elapsed;

        var accepted = responses.Count(r => r.Response.StatusCode == HttpStatusCode.OK);
        // 60 at once, then one more per second the burst took: never the 120 two separate limits allow.
        Assert.InRange(accepted, 60, 60 + (int)Math.Ceiling(elapsed.TotalSeconds));
        Assert.All(responses, r => Assert.Contains(r.Response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        foreach (var instance in new[] { 0, 1 })
        {
            var refused = responses.Where(r => r.Instance == instance && r.Response.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(refused);
            Assert.All(refused, r =>
            {
                Assert.Equal("60", r.Response.Headers.GetValues("x-ratelimit-limit-requests").Single());
                Assert.Equal("0", r.Response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
                Assert.InRange(r.Response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            });
            Assert.Contains(responses, r => r.Instance == instance && r.Response.StatusCode == HttpStatusCode.OK);
        }

        var body = await responses.First(r => r.Response.StatusCode == HttpStatusCode.TooManyRequests).Response.Content.ReadAsStringAsync();
        Assert.Contains("\"code\":\"rate_limit_exceeded\"", body.Replace(" ", ""));
    }

    [PostgresFact]
    public async Task AKeyRevokedOnOneInstanceIsRefusedByTheOtherWithinASecond()
    {
        var api = await Cluster.CreateApiAccountAsync(credits: 0);
        using var b = Cluster.ApiClient(1, api.Key);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/v1/key")).StatusCode); // B now has the key cached

        // The owner revokes it in the browser, on instance A.
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await PortalFixture.LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new() { BaseURL = Cluster.Instances[0].BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();
        await login.SignInAsync(api.Account);
        await Expect(login.Header.UserEmail).ToHaveTextAsync(api.Account.Email);
        var keys = new ApiKeysPage(page);
        await keys.GotoAsync();
        await keys.AskToRevokeAsync("cluster");
        await keys.ConfirmRevokeAsync();
        await Expect(keys.StatusOf("cluster")).ToHaveTextAsync("Revoked");

        var refusedAfter = await TimeUntilAsync(async () => (await b.GetAsync("/api/v1/key")).StatusCode == HttpStatusCode.Unauthorized);
        Assert.True(refusedAfter <= Propagation, $"instance B still accepted the revoked key {refusedAfter.TotalMilliseconds:0} ms later");
    }

    [PostgresFact]
    public async Task TheApiSwitchReachesEveryInstanceWithinASecond()
    {
        var api = await Cluster.CreateApiAccountAsync(credits: 0, rateLimitPerMinute: 10_000);
        using var a = Cluster.ApiClient(0, api.Key);
        using var b = Cluster.ApiClient(1, api.Key);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/api/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/v1/models")).StatusCode);

        await Cluster.RunAdminAsync("api", "--off");
        try
        {
            foreach (var client in new[] { a, b })
            {
                var offAfter = await TimeUntilAsync(async () => (await client.GetAsync("/api/v1/models")).StatusCode == HttpStatusCode.ServiceUnavailable);
                Assert.True(offAfter <= Propagation, $"{client.BaseAddress} still served {offAfter.TotalMilliseconds:0} ms after the switch");
            }

            var refused = await b.GetAsync("/api/v1/models");
            Assert.Contains("\"code\":\"service_unavailable\"", (await refused.Content.ReadAsStringAsync()).Replace(" ", ""));
        }
        finally
        {
            await Cluster.RunAdminAsync("api", "--on");
        }

        var onAfter = await TimeUntilAsync(async () => (await b.GetAsync("/api/v1/models")).StatusCode == HttpStatusCode.OK);
        Assert.True(onAfter <= Propagation, $"instance B still refused {onAfter.TotalMilliseconds:0} ms after the switch went back on");
    }

    /// <summary>
    /// How long after now <paramref name="condition"/> first holds, asking every 50 ms; gives up (and
    /// returns the time spent) after 5 s, so a failing test says how late it was.
    /// </summary>
    private static async Task<TimeSpan> TimeUntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition() && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        return clock.Elapsed;
    }
}
