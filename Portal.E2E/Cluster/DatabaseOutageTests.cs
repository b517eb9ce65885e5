using System.Diagnostics;

namespace Portal.E2E.Cluster;

/// <summary>
/// PostgreSQL goes away under load (connections cut, new ones refused — what a restart looks like to
/// Portal) and comes back: requests fail fast with 503 and Retry-After in the OpenAI envelope — an
/// outage to wait out, never a 500 — the instances recover on their own, and the ledger is intact.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);

    [PostgresFact]
    public async Task RequestsFailClearlyDuringAnOutageAndServiceRecoversWithoutARestart()
    {
        await using var cluster = await PortalCluster.StartAsync(instances: 2, new Dictionary<string, string>
        {
            ["Simulation__TokensPerSecond"] = "100",
            ["Simulation__FirstTokenDelayMs"] = "0",
        });
        var accounts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => cluster.CreateApiAccountAsync(credits: 5m, rateLimitPerMinute: 1_000_000)));
        var clients = accounts.SelectMany(a => new[] { cluster.ApiClient(0, a.Key), cluster.ApiClient(1, a.Key) }).ToArray();
        foreach (var client in clients)
        {
            client.Timeout = TimeSpan.FromSeconds(30); // a request waiting on a dead store must not hang
        }

        var outcomes = new List<(TimeSpan At, int Status)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 20).Select(worker => Task.Run(async () =>
        {
            for (var i = worker; !stop.IsCancellationRequested; i += 20)
            {
                var status = await ChatProbe.SendAsync(clients[i % clients.Length], stream: i % 3 == 0, i);
                lock (outcomes)
                {
                    outcomes.Add((clock.Elapsed, status));
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3));
        var down = clock.Elapsed;
        await cluster.Database.TakeOfflineAsync();
        try
        {
            await Task.Delay(Outage);
        }
        finally
        {
            await cluster.Database.BringBackAsync();
        }

        var up = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var during = outcomes.Where(o => o.At > down && o.At < up).ToList();
        output.WriteLine($"{outcomes.Count} requests; during the outage: {ChatProbe.Describe(during.Select(o => o.Status))}; " +
            $"after: {ChatProbe.Describe(outcomes.Where(o => o.At > up).Select(o => o.Status))}");
        Assert.All(outcomes, o => Assert.Contains(o.Status, new[] { 200, 503 }));
        Assert.Contains(during, o => o.Status != 200);

        // Recovered, both instances, with no restart: every request of the last two seconds succeeded.
        var last = outcomes.Where(o => o.At > clock.Elapsed - TimeSpan.FromSeconds(2)).ToList();
        Assert.NotEmpty(last);
        Assert.All(last, o => Assert.Equal(200, o.Status));
        Assert.All(cluster.Instances, instance => Assert.True(instance.IsRunning));
        for (var i = 0; i < clients.Length; i++)
        {
            Assert.Equal(200, await ChatProbe.SendAsync(clients[i], stream: false, i));
        }

        // Holds the outage left in doubt (committed, though their requests were told 503) are settled by
        // their own instance, which knows no request of it runs them (ADR 20); then the books balance.
        var clockForSweep = Stopwatch.StartNew();
        while (await ChatProbe.OpenHoldsAsync(cluster.Database) > 0 && clockForSweep.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(250);
        }

        await LedgerAudit.AssertConsistentAsync(cluster.Database);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
