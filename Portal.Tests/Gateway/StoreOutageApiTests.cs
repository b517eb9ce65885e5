using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Store;

namespace Portal.Tests.Gateway;

/// <summary>
/// The store unavailable under a running Portal: the API answers 503 with Retry-After (not 500),
/// charges nothing, and serves again once the store is back, without a restart.
/// </summary>
public sealed class StoreOutageApiTests
{
    private const string Hello = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":20}""";
    private const string HelloStreamed = """{"model":"glm-5","messages":[{"role":"user","content":"Hello"}],"max_tokens":20,"stream":true}""";

    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
    };

    [PostgresFact]
    public async Task WhilePostgresRefusesConnectionsRequestsGet503AndAreServedAgainOnceItIsBack()
    {
        await using var database = new PostgresTestDatabase();
        using var app = new PortalApplication(new Dictionary<string, string?>(database.StoreSettings().Concat(Fast)));
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var client = app.ApiClient(account.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);
        await app.CreateUserAsync("ada@example.com", "correct horse battery");
        using var browser = await app.SignedInBrowserAsync("ada@example.com", "correct horse battery");

        await database.RefuseConnectionsAsync();
        // Past the one-second caches of keys and catalog: every request now needs the store.
        app.Time.Advance(TimeSpan.FromSeconds(2));
        var refused = new List<HttpResponseMessage> { await client.PostChatAsync(Hello), await client.PostChatAsync(HelloStreamed) };
        var notReady = await app.CreateClient().GetAsync("/readyz");
        var dashboard = await browser.GetAsync("/dashboard");

        foreach (var response in refused)
        {
            var error = await GatewayFixtures.AssertErrorAsync(response, 503, "service_unavailable");
            Assert.Equal("service_unavailable", error["type"]!.GetValue<string>());
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        var page = await dashboard.Content.ReadAsStringAsync();
        Assert.Contains("reach its database right now", page);
        Assert.Contains("try again shortly", page);

        await database.AcceptConnectionsAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(HelloStreamed)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/readyz")).StatusCode);
        await AssertRefusedRequestsCostNothingAsync(app, account, refused, served: 3);
    }

    [PostgresFact]
    public async Task SigningInWhilePostgresIsDownSaysToTryAgainShortly()
    {
        await using var database = new PostgresTestDatabase();
        using var app = new PortalApplication(database.StoreSettings());
        await app.CreateUserAsync("ada@example.com", "correct horse battery");
        using var browser = app.CreateBrowser();

        await database.RefuseConnectionsAsync();
        var response = await browser.SignInAsync("ada@example.com", "correct horse battery");

        // A static page too: the layout's error boundary shows the outage in place of the form.
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("reach its database right now", page);
        Assert.Contains("try again shortly", page);
        Assert.DoesNotContain("If it keeps happening, the server log has the details", page);
        Assert.False(browser.HasAuthCookie);
    }

    [PostgresFact]
    public async Task OutsideAnyPageAnOutageShowsTheErrorPageAsA503()
    {
        await using var database = new PostgresTestDatabase();
        // The error page is Production's (Development lets the exception through).
        using var app = new PortalApplication(database.StoreSettings()) { EnvironmentName = "Production" };
        await app.CreateUserAsync("ada@example.com", "correct horse battery");
        using var browser = await app.SignedInBrowserAsync("ada@example.com", "correct horse battery");

        await database.RefuseConnectionsAsync();
        app.Time.Advance(TimeSpan.FromSeconds(2));
        // An endpoint the browser calls that is not a page: the exception reaches the error page.
        var export = await browser.GetAsync("/dashboard/requests.csv");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, export.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), export.Headers.RetryAfter?.Delta);
        var page = await export.Content.ReadAsStringAsync();
        Assert.Contains("reach its database right now", page);
        Assert.DoesNotContain("quote this reference", page);

        await database.AcceptConnectionsAsync();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard/requests.csv")).StatusCode);
    }

    [Fact]
    public async Task WhileAnotherProcessHoldsTheSqliteWriteLockRequestsGet503AndAreServedOnceItIsReleased()
    {
        var settings = new Dictionary<string, string?>(Fast);
        using var app = new PortalApplication(settings);
        // A busy timeout of a second instead of 30, so the lock outlasts it quickly.
        var file = Path.Combine(app.DataFolder, "portal.db");
        settings["Store:ConnectionString"] = $"Data Source={file};Default Timeout=1";
        var account = await app.CreateApiAccountAsync(credits: 1m);
        var client = app.ApiClient(account.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);

        var refused = new List<HttpResponseMessage>();
        await using (var other = new SqliteConnection($"Data Source={file}"))
        {
            // Another process writing (a backup tool, sqlite3 by hand): it holds the write lock.
            await other.OpenAsync();
            await using var begin = new SqliteCommand("BEGIN IMMEDIATE", other);
            await begin.ExecuteNonQueryAsync();

            refused.Add(await client.PostChatAsync(Hello));
            refused.Add(await client.PostChatAsync(HelloStreamed));
            await using var rollback = new SqliteCommand("ROLLBACK", other);
            await rollback.ExecuteNonQueryAsync();
        }

        foreach (var response in refused)
        {
            await GatewayFixtures.AssertErrorAsync(response, 503, "service_unavailable");
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(Hello)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostChatAsync(HelloStreamed)).StatusCode);
        await AssertRefusedRequestsCostNothingAsync(app, account, refused, served: 3);
    }

    [PostgresFact]
    public async Task MoreConcurrentRequestsThanPooledConnectionsGetAnAnswerOr503NeverA500()
    {
        await using var database = new PostgresTestDatabase();
        var settings = new Dictionary<string, string?>(database.StoreSettings().Concat(Fast))
        {
            ["Store:ConnectionString"] = database.ConnectionString + ";Maximum Pool Size=2;Timeout=1",
        };
        using var app = new PortalApplication(settings);
        var account = await app.CreateApiAccountAsync(credits: 5m, key: new NewApiKey("busy", RateLimitPerMinute: 600));
        var client = app.ApiClient(account.Key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => client.PostChatAsync(i % 2 == 0 ? Hello : HelloStreamed)));

        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await GatewayFixtures.AssertErrorAsync(response, 503, "service_unavailable");
            Assert.NotNull(response.Headers.RetryAfter);
        }

        var refusedIds = responses.Where(r => r.StatusCode != HttpStatusCode.OK).Select(RequestId).ToList();
        Assert.Equal(0, await app.InStoreAsync(db => db.Ledger.CountAsync(e => refusedIds.Contains(e.RequestId!))));
        await app.AssertLedgerConsistentAsync();
    }

    private static async Task AssertRefusedRequestsCostNothingAsync(PortalApplication app, ApiAccount account, List<HttpResponseMessage> refused, int served)
    {
        var refusedIds = refused.Select(RequestId).ToList();
        Assert.Equal(0, await app.InStoreAsync(db => db.Ledger.CountAsync(e => refusedIds.Contains(e.RequestId!))));
        var records = await app.InStoreAsync(db => db.UsageRecords.Where(r => r.UserId == account.UserId).ToListAsync());
        Assert.Equal(served, records.Count);
        Assert.All(records, r => Assert.Equal(200, r.Status));
        Assert.Equal(Money.FromUsd(1m) - records.Sum(r => r.CostMicros), await app.BalanceAsync(account.UserId));
        Assert.Equal(0, (await app.Services.GetRequiredService<CreditsLedger>().SummaryAsync(account.UserId)).OnHoldMicros);
        await app.AssertLedgerConsistentAsync();
    }

    private static string RequestId(HttpResponseMessage response) => response.Headers.GetValues("x-request-id").Single();
}
