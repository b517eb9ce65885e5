using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Portal.ApiKeys;
using Portal.Data;
using Portal.RateLimits;
using Portal.Tests.Gateway;
using Portal.Tests.Store;

namespace Portal.Tests.RateLimits;

/// <summary>
/// Tokens per minute on PostgreSQL (ADR 33): limiters of several instances over one store share each
/// (key, model) bucket, never admit more than it holds however they race, and answer as the in-memory
/// limiter of a single instance does.
/// </summary>
public sealed class SharedTokenLimitTests : PostgresAppTest
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [PostgresFact]
    public void TheGatewayUsesTheSharedTokenLimiterOnPostgres() =>
        Assert.IsType<PostgresTokenLimiter>(App.Services.GetRequiredService<ITokenLimiter>());

    [PostgresFact]
    public async Task TwoInstancesRacingForOneBucketAdmitExactlyWhatItHolds()
    {
        var account = await App.CreateApiAccountAsync(credits: 0);
        var (a, b) = (SharedLimiter(), SharedLimiter());
        var cost = TokenBucket.Cost(100, 6000);

        // 120 requests of 100 tokens at once, from two instances, into a bucket of 6,000.
        var decisions = await Task.WhenAll(Enumerable.Range(0, 120).Select(i =>
            Task.Run(async () => await (i % 2 == 0 ? a : b).TakeAsync(account.KeyId, "glm-5", 6000, cost))));

        Assert.Equal(60, decisions.Count(d => d.Allowed));
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i * 100).Reverse(), decisions.Where(d => d.Allowed).Select(d => d.Remaining).Order().Reverse());
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.InRange(d.RetryAfter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1)));
        // Another model's bucket, and another key's, are their own.
        Assert.True((await a.TakeAsync(account.KeyId, "kimi-k2", 6000, cost)).Allowed);
        Assert.True((await b.TakeAsync((await App.CreateApiAccountAsync(credits: 0)).KeyId, "glm-5", 6000, cost)).Allowed);

        // Tokens given back on one instance are there for the other.
        for (var i = 0; i < 10; i++)
        {
            a.GiveBack(account.KeyId, "glm-5", cost);
        }

        Assert.False((await a.TakeAsync(account.KeyId, "glm-5", 6000, TokenBucket.Cost(1001, 6000))).Allowed); // after the give-backs: 1,000 free
        var again = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(async () => await (i % 2 == 0 ? a : b).TakeAsync(account.KeyId, "glm-5", 6000, cost))));
        Assert.Equal(10, again.Count(d => d.Allowed));
    }

    [PostgresFact]
    public async Task RacingRequestsOfMixedSizesNeverTakeMoreThanTheBucketHolds()
    {
        var account = await App.CreateApiAccountAsync(credits: 0);
        var (a, b) = (SharedLimiter(), SharedLimiter());
        var sizes = Enumerable.Range(0, 200).Select(i => 1 + (i * 7919 % 400)).ToList();

        var decisions = await Task.WhenAll(sizes.Select((size, i) =>
            Task.Run(async () => (Size: size, Decision: await (i % 2 == 0 ? a : b).TakeAsync(account.KeyId, "glm-5", 10_000, TokenBucket.Cost(size, 10_000))))));

        var taken = decisions.Where(d => d.Decision.Allowed).Sum(d => d.Size);
        Assert.InRange(taken, 10_000 - 400, 10_000);
        var row = await App.InStoreAsync(db => db.Set<TokenLimitBucket>().SingleAsync());
        var now = (App.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        Assert.Equal(TokenBucket.Cost(taken, 10_000), row.FullAt - now, tolerance: 200); // one µs of rounding per request at most
    }

    [PostgresFact]
    public async Task SharedAndInMemoryTokenLimitersGiveTheSameAnswers()
    {
        var account = await App.CreateApiAccountAsync(credits: 0);
        var (a, b) = (SharedLimiter(), SharedLimiter());
        var memory = new TokenRateLimiter(App.Time);
        // Takes, give-backs (on the instance that took, as settlement does), refills of part of a
        // minute, a full minute's rest, and a limit that changes.
        (TimeSpan Wait, int Limit, long Tokens, long GiveBack)[] script =
        [
            (TimeSpan.Zero, 1000, 400, 0), (TimeSpan.Zero, 1000, 400, 300), (TimeSpan.Zero, 1000, 400, 0), (TimeSpan.Zero, 1000, 400, 0),
            (TimeSpan.FromSeconds(7), 1000, 250, 100), (TimeSpan.FromSeconds(1.5), 1000, 999, 0), (TimeSpan.FromMinutes(1), 1000, 1000, 1000),
            (TimeSpan.FromMilliseconds(10), 600, 600, 0), (TimeSpan.FromSeconds(3), 600, 31, 0), (TimeSpan.FromSeconds(3), 7, 7, 0),
        ];

        var limiter = a;
        foreach (var (wait, limit, tokens, back) in script)
        {
            App.Time.Advance(wait);
            var cost = TokenBucket.Cost(tokens, limit);
            var shared = await limiter.TakeAsync(account.KeyId, "glm-5", limit, cost);
            Assert.Equal(memory.Take("key", "glm-5", limit, cost), shared);
            if (shared.Allowed && back > 0)
            {
                limiter.GiveBack(account.KeyId, "glm-5", TokenBucket.Cost(back, limit));
                memory.GiveBack("key", "glm-5", TokenBucket.Cost(back, limit));
            }
            else
            {
                // Turns between the instances, except right after a give-back: that goes with its
                // instance's next round trip (the other instance sees it once that has run).
                limiter = limiter == a ? b : a;
            }
        }
    }

    [PostgresFact]
    public async Task TheGatewayOnPostgresHoldsTheWorstCaseAndKeepsOnlyWhatWasUsed()
    {
        var account = await App.CreateApiAccountAsync(key: new NewApiKey("tpm", TokensPerMinute: 2000));
        var client = App.ApiClient(account.Key);
        const string body = """{"model":"glm-5","messages":[{"role":"user","content":"Say hi."}],"max_tokens":1500}""";

        var first = await client.PostChatAsync(body);
        var worstCase = 2000 - long.Parse(first.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        var used = System.Text.Json.Nodes.JsonNode.Parse(await first.Content.ReadAsStringAsync())!["usage"]!["total_tokens"]!.GetValue<long>();
        var second = await client.PostChatAsync(body);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((2000 - used - worstCase).ToString(), second.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        Assert.Equal(1, await App.InStoreAsync(db => db.Set<TokenLimitBucket>().CountAsync()));
    }

    /// <summary>What another Portal instance on the same store would use, with a small pool as under load.</summary>
    private PostgresTokenLimiter SharedLimiter() =>
        new(App.Time, Options.Create(new StoreOptions
        {
            Provider = StoreProvider.Postgres,
            ConnectionString = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { MaxPoolSize = 10 }.ConnectionString,
        }));
}
