using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Data;
using Portal.Tests.Upstreams;

namespace Portal.Tests.Gateway;

/// <summary>Stopping the host (what SIGTERM does) while streams are running.</summary>
public sealed class GracefulShutdownTests
{
    private const string LongStream = """{"model":"glm-5","messages":[{"role":"user","content":"Write at length."}],"max_tokens":60,"stream":true}""";

    [Fact]
    public async Task RunningStreamFinishesBeforeTheHostStops()
    {
        // 60 tokens at 100 per second: the stream outlives the stop signal by about half a second.
        using var app = new PortalApplication(Paced(tokensPerSecond: 100, graceSeconds: 30));
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var response = await app.ApiClient(account.Key).PostChatStreamingAsync(LongStream);
        using var stream = await SseReader.OpenAsync(response);
        Assert.NotNull(await stream.NextAsync()); // it has started

        var stopping = app.Host.StopAsync();
        // While it drains, the instance tells load balancers to send new work elsewhere.
        var readiness = await app.CreateClient().GetAsync("/readyz");
        var events = await stream.RestAsync();
        await stopping;

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not ready: shutting down"), (readiness.StatusCode, await readiness.Content.ReadAsStringAsync()));
        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e.Contains("\"error\"", StringComparison.Ordinal));
        await using var store = StoreOf(app);
        var record = await store.UsageRecords.SingleAsync(r => r.UserId == account.UserId);
        Assert.Equal((200, (string?)null, Provenance.Reported, 60), (record.Status, record.ErrorCode, record.Provenance, record.CompletionTokens));
        await AssertSettledAsync(store, account, record.CostMicros);
    }

    [Fact]
    public async Task StreamStillRunningAfterTheGracePeriodIsSettledAsPartial()
    {
        // 400 tokens at 20 per second would take 20 s; the grace period is 1 s.
        using var app = new PortalApplication(Paced(tokensPerSecond: 20, graceSeconds: 1));
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var response = await app.ApiClient(account.Key).PostChatStreamingAsync(LongStream.Replace("\"max_tokens\":60", "\"max_tokens\":400", StringComparison.Ordinal));
        using var stream = await SseReader.OpenAsync(response);
        Assert.NotNull(await stream.NextAsync());

        var stopping = app.Host.StopAsync();
        // While stopping, a new completion is refused with a clear 503.
        var late = await app.ApiClient(account.Key).PostChatAsync(LongStream);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.Contains("restarting", await late.Content.ReadAsStringAsync());
        var events = await stream.RestAsync();
        await stopping;

        Assert.Contains("Portal is restarting", events[^1]); // the client is told why its stream ended
        await using var store = StoreOf(app);
        var record = await store.UsageRecords.SingleAsync(r => r.UserId == account.UserId);
        Assert.Equal((200, "server_shutdown", Provenance.Partial), (record.Status, record.ErrorCode, record.Provenance));
        Assert.InRange(record.CompletionTokens, 1, 399);
        Assert.Equal(Money.Cost(record.PromptTokens, record.CompletionTokens, record.InputPriceMicros, record.OutputPriceMicros), record.CostMicros);
        await AssertSettledAsync(store, account, record.CostMicros);
    }

    private static Dictionary<string, string?> Paced(int tokensPerSecond, int graceSeconds) => new()
    {
        ["Simulation:TokensPerSecond"] = tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Simulation:FirstTokenDelayMs"] = "0",
        ["Gateway:ShutdownGraceSeconds"] = graceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The stopped host has disposed its services: read its SQLite file directly.</summary>
    private static SqlitePortalDbContext StoreOf(PortalApplication app) =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(app.DataFolder, "portal.db")}").Options);

    /// <summary>Charged exactly the record's cost, every hold released, balance = Σ ledger.</summary>
    private static async Task AssertSettledAsync(PortalDbContext store, ApiAccount account, long cost)
    {
        var balance = await store.CreditBalances.Where(b => b.UserId == account.UserId).Select(b => b.BalanceMicros).SingleAsync();
        Assert.Equal(Money.FromUsd(1m) - cost, balance);
        Assert.Equal(balance, await store.Ledger.Where(e => e.UserId == account.UserId).SumAsync(e => e.AmountMicros));
        var unreleased = await store.Ledger
            .Where(h => h.Kind == LedgerKind.Hold && !store.Ledger.Any(r => r.RequestId == h.RequestId && r.Kind == LedgerKind.Release))
            .CountAsync();
        Assert.Equal(0, unreleased);
    }
}
