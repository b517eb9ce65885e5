using System.Diagnostics;
using System.Net;
using System.Text;

namespace Portal.E2E.Cluster;

/// <summary>
/// kill -9 of a Portal instance with requests in flight (ADR 20). Of two: the other keeps serving and,
/// once the dead one's lease lapses, settles its holds — streams at the progress they recorded in the
/// store — well within a minute, with no stale-hold timeout involved. Alone: its holds are settled when
/// it starts again, before it serves. Either way the ledger adds up, checked with SQL against the store.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CrashTests(ITestOutputHelper output)
{
    private const int Requests = 200;

    // 20 tokens a second: a reply of up to 60 tokens is in flight for about three seconds, and a stream
    // records its progress every second. Gateway:StaleHoldSeconds stays at its hour: leases do the work.
    private static readonly Dictionary<string, string> Slow = new()
    {
        ["Simulation__TokensPerSecond"] = "20",
        ["Gateway__ProgressSeconds"] = "1",
    };

    [PostgresFact]
    public async Task KillingOneOfTwoInstancesMidLoadHasTheOtherSettleItsHoldsWithinAMinute()
    {
        await using var cluster = await PortalCluster.StartAsync(instances: 2, Slow);
        var accounts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => cluster.CreateApiAccountAsync(credits: 5m, rateLimitPerMinute: 100_000)));
        var clients = accounts.Select(a => (A: cluster.ApiClient(0, a.Key), B: cluster.ApiClient(1, a.Key))).ToList();

        var load = Enumerable.Range(0, Requests).Select(i =>
        {
            var (a, b) = clients[i % clients.Count];
            return SendAsync(i % 2 == 0 ? a : b, instance: i % 2, stream: i % 4 < 2, i);
        }).ToList();

        var inFlight = await WaitForAsync(() => OpenHoldsAsync(cluster.Database), holds => holds >= Requests * 3 / 4, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the longest-running streams have recorded progress
        await cluster.Instances[0].KillAsync();
        var sinceKill = Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(load);
        output.WriteLine($"{inFlight} holds open shortly before the kill; instance 0: {outcomes.Count(o => o is { Instance: 0, Completed: true })} completed, " +
            $"{outcomes.Count(o => o is { Instance: 0, Completed: false })} cut off; instance 1: {outcomes.Count(o => o is { Instance: 1, Completed: true })} completed");

        // The surviving instance finished every request it had, in full.
        Assert.All(outcomes.Where(o => o.Instance == 1), o => Assert.True(o.Completed, $"request {o.Index} on the surviving instance: {o.Failure}"));
        Assert.Contains(outcomes, o => o is { Instance: 0, Completed: false });

        // The survivor settles the dead instance's holds once its lease lapses (Store:LeaseSeconds, 30 s).
        var left = await WaitForAsync(() => OpenHoldsAsync(cluster.Database), holds => holds == 0, TimeSpan.FromSeconds(60));
        output.WriteLine($"{left} holds of the killed instance open {sinceKill.Elapsed.TotalSeconds:0.0} s after the kill (the other instance settles them)");
        Assert.True(left == 0, $"{left} holds still open 60 s after the crash. Output:\n{cluster.Output}");
        Assert.Equal(1L, await cluster.Database.ScalarAsync<long>("""SELECT count(*) FROM "InstanceLeases" """));
        await AssertInterruptedSettledAsync(cluster.Database);

        // Every reply a client received in full was charged and recorded exactly once, as a success.
        var delivered = outcomes.Where(o => o.Completed).Select(o => o.RequestId!).ToList();
        var recorded = (await cluster.Database.RowsAsync("""SELECT "RequestId" FROM "UsageRecords" WHERE "Status" = 200 AND "CostMicros" > 0"""))
            .Select(r => (string)r[0]!).ToHashSet();
        Assert.All(delivered, id => Assert.Contains(id, recorded));
        await LedgerAudit.AssertConsistentAsync(cluster.Database);

        // The restarted instance serves again, under a lease of its own.
        await cluster.Instances[0].StartAsync();
        using var again = cluster.ApiClient(0, accounts[0].Key);
        Assert.True((await SendAsync(again, 0, stream: true, -1)).Completed);
        Assert.Equal(2L, await cluster.Database.ScalarAsync<long>("""SELECT count(*) FROM "InstanceLeases" """));
        await LedgerAudit.AssertConsistentAsync(cluster.Database);

        foreach (var (a, b) in clients)
        {
            a.Dispose();
            b.Dispose();
        }
    }

    [PostgresFact]
    public async Task AnInstanceKilledAloneSettlesItsHoldsAtItsNextStartUp()
    {
        await using var cluster = await PortalCluster.StartAsync(instances: 1, Slow);
        var account = await cluster.CreateApiAccountAsync(credits: 5m, rateLimitPerMinute: 100_000);
        using var client = cluster.ApiClient(0, account.Key);
        var load = Enumerable.Range(0, 60).Select(i => SendAsync(client, 0, stream: i % 2 == 0, i)).ToList();

        await WaitForAsync(() => OpenHoldsAsync(cluster.Database), holds => holds >= 45, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await cluster.Instances[0].KillAsync();
        await Task.WhenAll(load);
        var open = await OpenHoldsAsync(cluster.Database);
        Assert.True(open > 0, "no hold was left by the killed instance: the kill came too late to test anything");

        // Restarted at once, its old lease not lapsed yet: its start-up ends that lease and settles the holds before serving.
        var restart = Stopwatch.StartNew();
        await cluster.Instances[0].StartAsync();
        var after = await OpenHoldsAsync(cluster.Database);
        output.WriteLine($"{open} holds left by the kill, {after} still open once the restarted instance serves, {restart.Elapsed.TotalSeconds:0.0} s after the restart began");
        Assert.Equal(0L, after);
        await AssertInterruptedSettledAsync(cluster.Database);
        Assert.True((await SendAsync(client, 0, stream: true, -1)).Completed);
        await LedgerAudit.AssertConsistentAsync(cluster.Database);
    }

    /// <summary>The killed instance's requests were settled as interrupted: streams that had recorded progress charged it, the rest nothing.</summary>
    private async Task AssertInterruptedSettledAsync(ClusterDatabase database)
    {
        var interrupted = await database.ScalarAsync<long>("""SELECT count(*) FROM "UsageRecords" WHERE "ErrorCode" = 'interrupted'""");
        var charged = await database.ScalarAsync<long>("""SELECT count(*) FROM "UsageRecords" WHERE "ErrorCode" = 'interrupted' AND "CostMicros" > 0 AND "CompletionTokens" > 0""");
        output.WriteLine($"{interrupted} holds of the killed instance settled, {charged} of them at the progress their stream had recorded");
        Assert.True(interrupted > 0, "no hold was left by the killed instance: the kill came too late to test anything");
        Assert.True(charged > 0, "no stream of the killed instance was charged what it had delivered");
        Assert.Equal(0L, await database.ScalarAsync<long>("""SELECT count(*) FROM "RequestProgress" """));
    }

    private sealed record Outcome(int Index, int Instance, bool Completed, string? RequestId, string? Failure);

    private static async Task<Outcome> SendAsync(HttpClient client, int instance, bool stream, int index)
    {
        var body = $$"""{"model":"glm-5","messages":[{"role":"user","content":"Tell me about rivers, part {{index}}."}],"max_tokens":60,"stream":{{(stream ? "true" : "false")}}}""";
        try
        {
            using var response = await client.PostAsync("/api/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            var requestId = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.Single() : null;
            var completed = response.StatusCode == HttpStatusCode.OK && (!stream || text.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal));
            return new Outcome(index, instance, completed, requestId, completed ? null : $"{(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new Outcome(index, instance, false, null, e.Message);
        }
    }

    private static Task<long> OpenHoldsAsync(ClusterDatabase database) => database.ScalarAsync<long>("""
        SELECT count(*) FROM "LedgerEntries" h WHERE h."Kind" = 'hold'
        AND NOT EXISTS (SELECT FROM "LedgerEntries" r WHERE r."RequestId" = h."RequestId" AND r."Kind" = 'release')
        """);

    /// <summary>Reads a value every 100 ms until it satisfies <paramref name="done"/> or the time is up; returns the last reading.</summary>
    private static async Task<long> WaitForAsync(Func<Task<long>> read, Func<long, bool> done, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var value = await read();
        while (!done(value) && clock.Elapsed < limit)
        {
            await Task.Delay(100);
            value = await read();
        }

        return value;
    }
}
