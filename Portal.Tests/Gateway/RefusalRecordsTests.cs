using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Data;
using Portal.Gateway;
using Portal.Tests.Observability;
using Portal.Tests.Store;
using Portal.Usage;

namespace Portal.Tests.Gateway;

/// <summary>
/// Refused requests are recorded in bounded volume (<see cref="RefusalLog"/>): past an account's
/// allowance per minute, alike refusals share one usage record that counts them, and every count of
/// requests sums those counts. Run once per provider by the derived classes.
/// </summary>
public abstract class RefusalRecordsTests : StoreAppTest
{
    private const string Unaffordable = """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"max_tokens":50}""";
    private const string Malformed = """{"model":"glm-5","messages":"not a list"}""";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [Fact]
    public virtual async Task AThousandRefusalsCostABoundedNumberOfRowsYetEveryOneIsCounted()
    {
        // A $0 account with the highest key limit allowed, sending what it may: 500 a minute for two minutes.
        var account = await App.CreateApiAccountAsync(credits: 0m, key: new NewApiKey("flood", RateLimitPerMinute: 600));
        var client = App.ApiClient(account.Key);
        var statuses = new List<int>();
        for (var minute = 0; minute < 2; minute++)
        {
            for (var i = 0; i < 500; i++)
            {
                using var response = await client.PostChatAsync(i % 3 == 0 ? Malformed : Unaffordable);
                statuses.Add((int)response.StatusCode);
            }

            App.Time.Advance(TimeSpan.FromMinutes(1));
        }

        await App.Services.GetRequiredService<RefusalLog>().FlushAsync();

        Assert.Equal((334, 666), (statuses.Count(s => s == 400), statuses.Count(s => s == 402)));
        var records = await App.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        // Each minute: the first 60 refusals one record each, then one record per kind (400, 402).
        Assert.Equal(2 * (60 + 2), records.Count);
        Assert.Equal(1000, records.Sum(r => r.Requests));
        Assert.Equal((334, 666), (records.Where(r => r.Status == 400).Sum(r => r.Requests), records.Where(r => r.Status == 402).Sum(r => r.Requests)));
        Assert.All(records, r => Assert.Equal((0L, account.KeyId, "glm-5"), (r.CostMicros, r.ApiKeyId, r.ModelId)));
        Assert.Equal(4, records.Count(r => r.Requests > 1));

        var usage = App.Services.GetRequiredService<UsageQueries>();
        Assert.Equal(1000, (await usage.DailyAsync(account.UserId)).Sum(d => d.Requests));
        Assert.Equal(1000, (await usage.EveryonesDailyAsync()).Sum(d => d.Requests));
        Assert.Equal(1000, Assert.Single(await usage.ByModelAsync(account.UserId)).Requests);
        var rows = await usage.RequestsAsync(account.UserId, RequestFilter.None, 0, UsageQueries.MaxPageSize);
        Assert.Equal(records.Count, rows.Total);
        Assert.Equal(1000, (await usage.StreamRequestsAsync(account.UserId, RequestFilter.None).ToListAsync()).Sum(r => r.Requests));

        // The metrics still count every request.
        App.RemoteIp = IPAddress.Loopback; // /metrics answers loopback
        var metrics = MetricsTests.Exposition.Parse(await App.CreateClient().GetStringAsync("/metrics"));
        Assert.Equal(666, metrics.Value("portal_requests_total", ("model", "glm-5"), ("status", "402")));
        await App.AssertLedgerConsistentAsync();
    }
}

public sealed class SqliteRefusalRecordsTests : RefusalRecordsTests
{
    protected override bool OnPostgres => false;

    [Fact]
    public async Task RefusalsCountedInMemoryAreWrittenWhenThePortalStops()
    {
        var account = await App.CreateApiAccountAsync(credits: 0m, key: new NewApiKey("flood", RateLimitPerMinute: 600));
        var client = App.ApiClient(account.Key);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, (await client.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"hi"}]}""")).StatusCode);
        }

        // As SIGTERM does, within the same minute: nothing has swept the counts yet.
        await App.Host.StopAsync();
        App.Host.Dispose();

        await using var store = new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>()
            .UseSqlite($"Data Source={Path.Combine(App.DataFolder, "portal.db")}").Options);
        var records = await store.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync();
        Assert.Equal(61, records.Count);
        Assert.Equal(40, Assert.Single(records, r => r.Requests > 1).Requests);
    }
}

public sealed class PostgresRefusalRecordsTests : RefusalRecordsTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task AThousandRefusalsCostABoundedNumberOfRowsYetEveryOneIsCounted() => base.AThousandRefusalsCostABoundedNumberOfRowsYetEveryOneIsCounted();
}
