using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Portal.E2E.Cluster;

/// <summary>
/// 10,000 mixed requests from 100 concurrent clients of 20 users across two instances — plain and
/// streamed replies, clients leaving mid-stream, an upstream that fails, and balances running dry
/// (402) — and then the ledger must add up to the micro-dollar (SQL against the shared store).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LedgerStressTests(ITestOutputHelper output)
{
    private const int Requests = 10_000;
    private const int Clients = 100;
    private const int Users = 20;

    private enum Kind { Plain, Streamed, Aborted, FailingUpstream, Expensive }

    [PostgresFact]
    public async Task TenThousandMixedRequestsLeaveNoDriftAndNoNegativeBalance()
    {
        await using var cluster = await PortalCluster.StartAsync(instances: 2, new Dictionary<string, string>
        {
            // Fast replies, yet slow enough (2 s for 400 tokens) that a client can leave mid-stream.
            ["Simulation__TokensPerSecond"] = "200",
            ["Simulation__FirstTokenDelayMs"] = "0",
            // Every user starts with 5 cents: a few hundred small requests' worth, so balances run
            // out during the run and the expensive requests meet 402s.
            ["Accounts__WelcomeCreditsUsd"] = "0.05",
            // All twenty sign up from this machine, past the default allowance of one address.
            ["Accounts__SignUpsPerHourPerIp"] = "100",
        });
        // kimi-k2 goes to a provider that refuses connections: retried, then 502.
        await cluster.RunAdminAsync("add-upstream", "--model", "kimi-k2", "--url", "http://127.0.0.1:9/v1", "--upstream-model", "kimi-k2", "--timeout", "5");
        var accounts = await CreateUsersAsync(cluster);
        var clients = accounts.SelectMany(a => new[] { cluster.ApiClient(0, a.Key), cluster.ApiClient(1, a.Key) }).ToArray();

        var statuses = new Dictionary<(Kind, string), int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Requests)
            {
                var kind = (i % 10) switch { < 5 => Kind.Plain, < 7 => Kind.Streamed, 7 => Kind.Aborted, 8 => Kind.FailingUpstream, _ => Kind.Expensive };
                var outcome = await SendAsync(clients[i % clients.Length], kind, i);
                lock (statuses)
                {
                    statuses[(kind, outcome)] = statuses.GetValueOrDefault((kind, outcome)) + 1;
                }
            }
        })));
        output.WriteLine($"{Requests} requests in {clock.Elapsed.TotalSeconds:0.0} s: " +
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key.Item1} {s.Key.Item2} × {s.Value}")));

        // Every outcome is one the request could have: never a 500.
        var allowed = new Dictionary<Kind, string[]>
        {
            [Kind.Plain] = ["200", "402"],
            [Kind.Streamed] = ["200", "402"],
            [Kind.Aborted] = ["left", "402", "200"], // a short reply may finish before the client leaves
            [Kind.FailingUpstream] = ["502", "402"],
            [Kind.Expensive] = ["200", "402"],
        };
        Assert.All(statuses, s => Assert.Contains(s.Key.Item2, allowed[s.Key.Item1]));
        Assert.Contains(statuses, s => s.Key == (Kind.Aborted, "left"));
        Assert.Contains(statuses, s => s.Key == (Kind.Expensive, "402"));
        Assert.Contains(statuses, s => s.Key == (Kind.Streamed, "200"));
        Assert.Contains(statuses, s => s.Key == (Kind.FailingUpstream, "502"));

        // Clients that left are settled by the instance right away, not by a sweep an hour later.
        var open = await WaitForNoOpenHoldsAsync(cluster.Database);
        Assert.True(open == 0, $"{open} holds still open 10 s after the last request");
        await LedgerAudit.AssertConsistentAsync(cluster.Database);
        // One usage record per request; a client that left before Portal read its request may leave none.
        var left = statuses.Where(s => s.Key.Item2 == "left").Sum(s => s.Value);
        Assert.InRange(await cluster.Database.ScalarAsync<long>("""SELECT count(*) FROM "UsageRecords" """), Requests - left, Requests);

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    /// <summary>20 users, signed up through the web form (with the welcome credits), and a key each through the CLI.</summary>
    private static async Task<List<ApiAccount>> CreateUsersAsync(PortalCluster cluster)
    {
        var users = await Task.WhenAll(Enumerable.Range(0, Users).Select(_ => cluster.SignUpAsync()));
        var accounts = new List<ApiAccount>();
        foreach (var pair in users.Chunk(2)) // a CLI call is a process start: two at a time on two cores
        {
            accounts.AddRange(await Task.WhenAll(pair.Select(async user => new ApiAccount(user, await cluster.CreateKeyAsync(user, rateLimitPerMinute: 1_000_000)))));
        }

        return accounts;
    }

    /// <returns>The status code, or "left" when the client went away mid-stream.</returns>
    private static async Task<string> SendAsync(HttpClient client, Kind kind, int index)
    {
        var (model, maxTokens, stream) = kind switch
        {
            Kind.Plain => ("glm-5", 16, false),
            Kind.Streamed => ("glm-5", 16, true),
            Kind.Aborted => ("glm-5", 400, true),
            Kind.FailingUpstream => ("kimi-k2", 16, false),
            _ => ("glm-5", 8192, index % 2 == 0),
        };
        var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Question {{index}}: tell me about rivers."}],"max_tokens":{{maxTokens}},"stream":{{(stream ? "true" : "false")}}}""";
        using var leave = new CancellationTokenSource();
        if (kind == Kind.Aborted)
        {
            leave.CancelAfter(TimeSpan.FromMilliseconds(100 + (index % 5 * 50)));
        }

        try
        {
            using var response = await client.PostAsync("/api/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), leave.Token);
            var text = await response.Content.ReadAsStringAsync(leave.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                // Every refusal in the OpenAI envelope.
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("error").TryGetProperty("code", out _), text);
            }
            else if (stream)
            {
                Assert.EndsWith("data: [DONE]", text.TrimEnd());
            }

            return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (OperationCanceledException) when (leave.IsCancellationRequested)
        {
            return "left";
        }
    }

    private static async Task<long> WaitForNoOpenHoldsAsync(ClusterDatabase database)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var open = await database.ScalarAsync<long>("""
                SELECT count(*) FROM "LedgerEntries" h WHERE h."Kind" = 'hold'
                AND NOT EXISTS (SELECT FROM "LedgerEntries" r WHERE r."RequestId" = h."RequestId" AND r."Kind" = 'release')
                """);
            if (open == 0 || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return open;
            }

            await Task.Delay(200);
        }
    }
}
