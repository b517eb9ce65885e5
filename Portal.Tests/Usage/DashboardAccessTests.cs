using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Tests.Gateway;
using Portal.Usage;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Usage;

/// <summary>The dashboard and its CSV export as the server serves them: who may see what, and bad filters.</summary>
public sealed class DashboardAccessTests : IAsyncLifetime
{
    private const string Password = "correct horse battery";
    private readonly PortalApplication _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/dashboard", "/login?ReturnUrl=%2Fdashboard")]
    [InlineData("/dashboard/requests.csv?model=glm-5", "/login?ReturnUrl=%2Fdashboard%2Frequests.csv%3Fmodel%3Dglm-5")]
    public async Task AnAnonymousVisitorIsSentToLogin(string url, string login)
    {
        using var browser = _app.CreateBrowser();

        var response = await browser.GetAsync(url);

        Assert.Equal(login, response.RedirectTarget());
    }

    [Fact]
    public async Task TheServedPageShowsTheUsersOwnBalanceAndNothingOfAnotherUsers()
    {
        var (_, bob) = await TwoUsersWithHistoryAsync();
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var html = WebUtility.HtmlDecode(await browser.GetPageAsync("/dashboard"));

        // The lists themselves are read by the circuit, page by page (DashboardGridTests); the
        // served page says it is loading them, never that there are none.
        Assert.Contains("<title>Dashboard · Portal</title>", html);
        Assert.DoesNotContain(bob.RequestId, html);
        Assert.DoesNotContain("bob's grant", html);
        Assert.DoesNotContain("bob's key", html);
        var text = Html.Text(html);
        Assert.Contains("Available balance $4.999877", text);
        Assert.Contains("Days are UTC", text);
        Assert.Contains("Loading requests…", text);
        Assert.Contains("Loading the ledger…", text);
        Assert.DoesNotContain("No requests yet", text);
        Assert.DoesNotContain("No credits yet", text);
        Assert.Contains("data-testid=\"csv-export\"", html);
    }

    [Fact]
    public async Task TheCsvHoldsOnlyTheUsersOwnRequests()
    {
        var (ada, bob) = await TwoUsersWithHistoryAsync();
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var response = await browser.GetAsync(UsageEndpoints.CsvPath);
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("portal-requests.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(RequestsCsv.Header.TrimEnd(), lines[0]);
        Assert.Equal($"2026-11-22T09:30:00.000Z,{ada.RequestId},glm-5,laptop,12,34,0,0.000123,850,120,200,,reported,false,1,0,0.000000,0.000000,0.000000,,chat/completions", lines[1]);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain(bob.RequestId, csv);
    }

    [Fact]
    public async Task TheCsvHonoursTheFiltersAndDisarmsHostileText()
    {
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        var keys = _app.Services.GetRequiredService<ApiKeyService>();
        var (hostile, _) = await keys.CreateAsync(ada.Id, new NewApiKey("=HYPERLINK(\"http://evil.test\",\"x\"),1"));
        var (plain, _) = await keys.CreateAsync(ada.Id, new NewApiKey("plain"));
        var now = _app.Now();
        var viaHostile = Record(ada.Id, now, "kimi-k2", keyId: hostile.Id, status: 502, error: "upstream_error");
        await _app.AddAsync(
            viaHostile,
            Record(ada.Id, now, "glm-5", keyId: hostile.Id),
            Record(ada.Id, now, "kimi-k2", keyId: plain.Id),
            Record(ada.Id, now.AddDays(-3), "kimi-k2", keyId: hostile.Id, status: 500, error: "internal_error"));
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var csv = await browser.Client.GetStringAsync($"{UsageEndpoints.CsvPath}?model=kimi-k2&key={hostile.Id}&status=error&from=2026-11-22&to=2026-11-22");

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"2026-11-22T09:30:00.000Z,{viaHostile.RequestId},kimi-k2,\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\"),1\",", lines[1]);
        Assert.EndsWith(",502,upstream_error,reported,false,1,0,0.000000,0.000000,0.000000,,chat/completions", lines[1]);
    }

    [Fact]
    public async Task EndUsersAreInTheCsvAndFilterItButOnlyTheAccountsOwn()
    {
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        var bob = await _app.CreateUserAsync("bob@example.com", Password);
        var now = _app.Now();
        var forCustomer = Record(ada.Id, now, prompt: 2_000, completion: 10, cost: 1_640);
        (forCustomer.EndUser, forCustomer.CachedTokens) = ("customer-7", 1_500);
        (forCustomer.InputPriceMicros, forCustomer.CachedInputPriceMicros, forCustomer.OutputPriceMicros) = (1_500_000, 300_000, 5_000_000);
        var forOther = Record(ada.Id, now.AddMinutes(-1));
        (forOther.EndUser, forOther.Api) = ("customer-8, \"quoted\"", FrontDoor.Messages);
        var bobs = Record(bob.Id, now);
        bobs.EndUser = "customer-7"; // the same id, another account's
        await _app.AddAsync(forCustomer, forOther, bobs, Record(ada.Id, now.AddMinutes(-2)));
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var all = (await browser.Client.GetStringAsync(UsageEndpoints.CsvPath)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var filtered = (await browser.Client.GetStringAsync($"{UsageEndpoints.CsvPath}?user=customer-7")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.EndsWith(",cached_tokens,input_usd_per_1m,cached_input_usd_per_1m,output_usd_per_1m,end_user,api", all[0]);
        Assert.Equal(4, all.Length);
        Assert.EndsWith(",1,1500,1.500000,0.300000,5.000000,customer-7,chat/completions", all[1]);
        Assert.EndsWith(",\"customer-8, \"\"quoted\"\"\",messages", all[2]);
        Assert.EndsWith(",0,0.000000,0.000000,0.000000,,chat/completions", all[3]);
        Assert.Equal([forCustomer.RequestId], filtered.Skip(1).Select(line => line.Split(',')[1]));
        Assert.DoesNotContain(bobs.RequestId, string.Concat(all));
    }

    [Theory]
    [InlineData("?from=2026-11-20&to=2026-11-01", "The start date (2026-11-20) is after the end date (2026-11-01).")]
    [InlineData("?model=no-such-model", "There is no model called “no-such-model”. Pick one from the list.")]
    [InlineData("?status=maybe", "Status must be “ok” or “error”.")]
    [InlineData("?from=yesterday", "From must be a date like 2026-11-22, not “yesterday”.")]
    [InlineData("?key=someone-elses", "That API key isn't one of yours. Pick one from the list.")]
    public async Task BadFiltersAreExplainedOnThePageAndRefusedByTheExport(string query, string message)
    {
        await _app.CreateUserAsync("ada@example.com", Password);
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var html = await browser.GetPageAsync("/dashboard" + query);
        var export = await browser.GetAsync(UsageEndpoints.CsvPath + query);

        Assert.Contains(message, Html.Text(html));
        Assert.DoesNotContain("data-testid=\"request-table\"", html);
        Assert.Equal(HttpStatusCode.BadRequest, export.StatusCode);
        Assert.Equal(message, await export.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheLastDayThereIsIsAValidEndDate()
    {
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        var record = Record(ada.Id, _app.Now());
        await _app.AddAsync(record);
        using var browser = await _app.SignedInBrowserAsync("ada@example.com", Password);

        var html = await browser.GetPageAsync("/dashboard?to=9999-12-31");
        var export = await browser.GetAsync(UsageEndpoints.CsvPath + "?from=0001-01-01&to=9999-12-31");

        Assert.DoesNotContain("data-testid=\"filter-errors\"", html);
        Assert.Contains("data-testid=\"request-table\"", html);
        Assert.Contains(record.RequestId, string.Join(",", (await _app.Services.GetRequiredService<UsageQueries>()
            .RequestsAsync(ada.Id, RequestFilter.Parse(null, null, null, null, "9999-12-31", [], []).Filter, 0, 10)).Rows.Select(r => r.RequestId)));
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Contains(record.RequestId, await export.Content.ReadAsStringAsync());
    }

    // A hand-edited or past-the-end page number: DashboardGridTests.APageNumberFromTheAddressIsReadSafely.

    /// <summary>Ada and Bob, each with a key, a grant and one settled request.</summary>
    private async Task<(UsageRecordRef Ada, UsageRecordRef Bob)> TwoUsersWithHistoryAsync()
    {
        var ada = await _app.CreateUserAsync("ada@example.com", Password);
        var bob = await _app.CreateUserAsync("bob@example.com", Password);
        var keys = _app.Services.GetRequiredService<ApiKeyService>();
        var (laptop, _) = await keys.CreateAsync(ada.Id, new NewApiKey("laptop"));
        var (bobs, _) = await keys.CreateAsync(bob.Id, new NewApiKey("bob's key"));
        var ledger = _app.Services.GetRequiredService<CreditsLedger>();
        await ledger.GrantAsync(ada.Id, 5_000_000, "ada's welcome", actorId: null);
        await ledger.GrantAsync(bob.Id, 7_000_000, "bob's grant", actorId: null);
        var writer = _app.Services.GetRequiredService<LedgerWriter>();
        var adas = await SettleAsync(writer, Record(ada.Id, _app.Now(), "glm-5", keyId: laptop.Id, prompt: 12, completion: 34, cost: 123, latency: 850, ttft: 120));
        var bobs1 = await SettleAsync(writer, Record(bob.Id, _app.Now(), "glm-5", keyId: bobs.Id));
        return (adas, bobs1);
    }

    private static async Task<UsageRecordRef> SettleAsync(LedgerWriter writer, UsageRecord record)
    {
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(record.UserId, record.ApiKeyId, record.RequestId, 1_000_000));
        await writer.SettleAsync(new Settlement(record.UserId, record.ApiKeyId, record.RequestId, 1_000_000, record.CostMicros), record);
        return new UsageRecordRef(record.RequestId);
    }

    private sealed record UsageRecordRef(string RequestId);
}
