using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Billing;
using Portal.Catalog;
using Portal.Status;
using Portal.Tests.Gateway;
using Portal.Tests.Store;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Status;

/// <summary>
/// The status page's queries against a real store, run once per provider by the derived classes:
/// the windows' counts and medians must translate on both.
/// </summary>
public abstract class StatusStoreTests : StoreAppTest
{
    private const string Password = "correct horse battery";

    private StatusQueries Status => App.Services.GetRequiredService<StatusQueries>();

    [Fact]
    public virtual async Task StatusCountsServerFailuresNotClientErrorsAndTakesMediansOfSuccesses()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var now = App.Now();
        var minutesAgo = (int m) => now.AddMinutes(-m);
        await App.AddAsync(
            Record(ada.Id, minutesAgo(1), latency: 300, ttft: 30),
            Record(ada.Id, minutesAgo(2), latency: 100, ttft: 10),
            Record(ada.Id, minutesAgo(3), latency: 200, ttft: null),
            Record(ada.Id, minutesAgo(4), latency: 9_000, status: 502, error: "upstream_error"),
            Record(ada.Id, minutesAgo(5), latency: 9_000, error: "upstream_timeout", provenance: Provenance.Partial), // cut mid-stream
            Record(ada.Id, minutesAgo(6), status: 400, error: "invalid_request_error"),
            Record(ada.Id, minutesAgo(7), status: 402, error: "insufficient_quota"),
            Record(ada.Id, minutesAgo(8), status: 429, error: "rate_limit_exceeded"),
            Record(ada.Id, minutesAgo(9), status: 499, error: "client_disconnected", provenance: Provenance.Partial),
            // Earlier today: in the day's numbers only.
            Record(ada.Id, now.AddHours(-3), latency: 400, ttft: 40),
            Record(ada.Id, now.AddHours(-5), latency: 500, ttft: 50),
            Record(ada.Id, now.AddHours(-23), latency: 600, ttft: 60, status: 500, error: "internal_error"),
            // Older than a day: nowhere.
            Record(ada.Id, now.AddHours(-25), status: 500, error: "internal_error"),
            // A disabled model is not on the page, and kimi-k2 has only yesterday's traffic.
            Record(ada.Id, minutesAgo(1), model: "deepseek-r1"),
            Record(ada.Id, now.AddHours(-2), model: "kimi-k2", latency: 700, ttft: 70));
        await App.InStoreAsync(db => db.Models.Where(m => m.Id == "deepseek-r1").ExecuteUpdateAsync(s => s.SetProperty(m => m.Enabled, false)));
        App.Services.GetRequiredService<ModelCatalog>().Invalidate();

        var models = await Status.EnabledModelsAsync();

        Assert.Equal(["glm-5", "glm-5.2", "kimi-k2"], models.Select(m => m.ModelId).Order(StringComparer.Ordinal));
        var glm = models.Single(m => m.ModelId == "glm-5");
        Assert.Equal(new WindowStats(Requests: 9, Counted: 5, Failures: 2, MedianLatencyMs: 200, MedianTimeToFirstTokenMs: 10), glm.LastHour);
        Assert.Equal(0.6, glm.LastHour.Availability);
        Assert.Equal(new WindowStats(Requests: 12, Counted: 8, Failures: 3, MedianLatencyMs: 300, MedianTimeToFirstTokenMs: 30), glm.LastDay);
        var kimi = models.Single(m => m.ModelId == "kimi-k2");
        Assert.True(kimi.LastHour.NoTraffic);
        Assert.Equal(new WindowStats(1, 1, 0, 700, 70), kimi.LastDay);
        Assert.Equal(1.0, kimi.LastDay.Availability);
        Assert.True(models.Single(m => m.ModelId == "glm-5.2").LastDay.NoTraffic);
    }

    [Fact]
    public virtual async Task OnlyClientErrorsLeaveAvailabilityUnknownNotPerfect()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        await App.AddAsync(Record(ada.Id, App.Now(), status: 401, error: "invalid_api_key"));

        var glm = (await Status.EnabledModelsAsync()).Single(m => m.ModelId == "glm-5");

        Assert.False(glm.LastHour.NoTraffic);
        Assert.Null(glm.LastHour.Availability);
        Assert.Null(glm.LastHour.MedianLatencyMs);
    }
}

public sealed class SqliteStatusStoreTests : StatusStoreTests
{
    protected override bool OnPostgres => false;
}

/// <summary>The status queries on a real PostgreSQL, each test in its own new database.</summary>
public sealed class PostgresStatusStoreTests : StatusStoreTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task StatusCountsServerFailuresNotClientErrorsAndTakesMediansOfSuccesses() => base.StatusCountsServerFailuresNotClientErrorsAndTakesMediansOfSuccesses();

    [PostgresFact]
    public override Task OnlyClientErrorsLeaveAvailabilityUnknownNotPerfect() => base.OnlyClientErrorsLeaveAvailabilityUnknownNotPerfect();
}
