using Portal.Tests.Gateway;
using Portal.RateLimits;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.Data;
using Portal.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.RateLimits;

/// <summary>
/// The PostgreSQL rate limiter (ADR 7): several limiters over one store behave as one bucket per key,
/// and answer exactly as the in-memory limiter of a single instance does.
/// </summary>
public sealed class SharedRateLimitTests : PostgresAppTest
{

    [PostgresFact]
    public void TheGatewayUsesTheSharedLimiterOnPostgres() =>
        Assert.IsType<PostgresRateLimiter>(App.Services.GetRequiredService<IRateLimiter>());

    [PostgresFact]
    public async Task TwoInstancesRacingForOneKeyAllowExactlyItsLimit()
    {
        var account = await App.CreateApiAccountAsync(credits: 0);
        var (a, b) = (SharedLimiter(), SharedLimiter());

        var decisions = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            Task.Run(async () => await (i % 2 == 0 ? a : b).AcquireAsync(account.KeyId, 60, CancellationToken.None))));

        Assert.Equal(60, decisions.Count(d => d.Allowed));
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.InRange(d.RetryAfter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1)));
        // Another key's bucket is its own.
        var other = await App.CreateApiAccountAsync(credits: 0);
        Assert.True((await a.AcquireAsync(other.KeyId, 60, CancellationToken.None)).Allowed);
    }

    [PostgresFact]
    public async Task RequestsArrivingTogetherAreDecidedInFewRoundTripsEachKeyExactlyToItsLimit()
    {
        var keys = new[] { (await App.CreateApiAccountAsync(credits: 0)).KeyId, (await App.CreateApiAccountAsync(credits: 0)).KeyId };
        var limiter = SharedLimiter();
        var limits = new Dictionary<string, int> { [keys[0]] = 30, [keys[1]] = 45, ["deleted-key"] = 60 };

        // 300 requests at once over three keys, one of them without an ApiKeys row (deleted meanwhile).
        var decisions = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
        {
            var key = limits.Keys.ElementAt(i % 3);
            return Task.Run(async () => (Key: key, Decision: await limiter.AcquireAsync(key, limits[key], CancellationToken.None)));
        }));

        Assert.Equal(30, decisions.Count(d => d.Key == keys[0] && d.Decision.Allowed));
        Assert.Equal(45, decisions.Count(d => d.Key == keys[1] && d.Decision.Allowed));
        Assert.DoesNotContain(decisions, d => d.Key == "deleted-key" && d.Decision.Allowed); // no bucket, no allowance, no error for the others
        // The allowed requests of a key count its bucket down one by one: remaining 29, 28 … 0.
        Assert.Equal(Enumerable.Range(0, 30).Reverse(), decisions.Where(d => d.Key == keys[0] && d.Decision.Allowed).Select(d => d.Decision.Remaining).Order().Reverse());
        Assert.InRange(limiter.RoundTrips, 1, 150);
    }

    [PostgresFact]
    public async Task SharedAndInMemoryLimitersGiveTheSameAnswers()
    {
        var account = await App.CreateApiAccountAsync(credits: 0);
        var (a, b) = (SharedLimiter(), SharedLimiter());
        var memory = new RequestRateLimiter(App.Time);
        // Bursts, refills of a fraction of a request, a full minute's rest, and a key whose limit changes.
        (TimeSpan Wait, int Limit, int Requests)[] script =
        [
            (TimeSpan.Zero, 5, 7), (TimeSpan.FromSeconds(11), 5, 2), (TimeSpan.FromSeconds(13), 5, 3),
            (TimeSpan.FromMinutes(1), 5, 1), (TimeSpan.FromMilliseconds(1500), 60, 70), (TimeSpan.FromSeconds(2.5), 3, 2),
        ];

        var turn = 0;
        foreach (var (wait, limit, requests) in script)
        {
            App.Time.Advance(wait);
            for (var i = 0; i < requests; i++)
            {
                var shared = await (turn++ % 2 == 0 ? a : b).AcquireAsync(account.KeyId, limit, CancellationToken.None);
                Assert.Equal(memory.Acquire("key", limit), shared);
            }
        }
    }

    [PostgresFact]
    public async Task TheSixtyFirstRequestGets429WithTheSameHeadersAsOnOneInstance()
    {
        var account = await App.CreateApiAccountAsync();
        var client = App.ApiClient(account.Key);

        for (var i = 59; i >= 0; i--)
        {
            var ok = await client.GetAsync("/api/v1/key");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(i.ToString(), ok.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        }

        var refused = await client.GetAsync("/api/v1/key");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("60", refused.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("0", refused.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("1m0s", refused.Headers.GetValues("x-ratelimit-reset-requests").Single());

        App.Time.Advance(TimeSpan.FromMinutes(1));
        var recovered = await client.GetAsync("/api/v1/key");
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal("59", recovered.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        // One row per key, no more: nothing to expire.
        Assert.Equal(1, await App.InStoreAsync(db => db.Set<RateLimitBucket>().CountAsync()));
    }

    /// <summary>
    /// What another Portal instance on the same store would use; its small pool makes requests queue
    /// for connections as they do under load (the server's 100 connections are shared with other tests).
    /// </summary>
    private PostgresRateLimiter SharedLimiter() =>
        new(App.Time, Options.Create(new StoreOptions
        {
            Provider = StoreProvider.Postgres,
            ConnectionString = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { MaxPoolSize = 10 }.ConnectionString,
        }));
}
