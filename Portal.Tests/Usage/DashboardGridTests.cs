using System.Security.Claims;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Billing;
using Portal.Tests.Components;
using Portal.Usage;
using static Portal.Tests.Usage.UsageSeed;

namespace Portal.Tests.Usage;

/// <summary>
/// The dashboard's requests and ledger grids against a real (SQLite) Portal: each page, each sort,
/// each filter read from the store as the circuit would read it.
/// </summary>
public sealed class DashboardGridTests : ComponentTestBase
{
    private const string Password = "correct horse battery";

    /// <summary>How long to wait for a render that follows a store query: a bound on waiting, not a delay.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private PortalApplication App { get; } = new();

    public DashboardGridTests()
    {
        Services.AddLogging();
        Services.AddSingleton(App.Services.GetRequiredService<UsageQueries>());
        Services.AddSingleton(App.Services.GetRequiredService<ModelCatalog>());
        Services.AddSingleton(App.Services.GetRequiredService<IOptions<IdentityOptions>>());
    }

    protected override async Task DisposeFixturesAsync() => await App.DisposeAsync();

    [Fact]
    public async Task ARequestRowShowsItsSourceTokensCostTimingStatusAndProvenance()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var (laptop, _) = await App.Services.GetRequiredService<ApiKeyService>().CreateAsync(ada.Id, new NewApiKey("laptop"));
        var at = App.Now().Date.AddHours(9).AddMinutes(30);
        var partial = Record(ada.Id, at, "glm-5", prompt: 30, completion: 12, cost: 250, status: 499, error: "client_disconnected", latency: 4_321, ttft: 180, provenance: Provenance.Partial);
        partial.ReasoningTokens = 5;
        var reported = Record(ada.Id, at.AddMinutes(-1), "kimi-k2", keyId: laptop.Id, prompt: 1_000, completion: 20, cost: 1_600, latency: 640, ttft: null);
        await App.AddAsync(partial, reported);

        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, RequestFilter.None));

        table.WaitForAssertion(() => Assert.Equal(
            [
                "2026-11-22 09:30:00 glm-5 Playground 30 / 12 5 reasoning $0.00025 4.32 s 180 ms 499 client_disconnected partial",
                "2026-11-22 09:29:00 kimi-k2 laptop 1,000 / 20 $0.0016 640 ms — 200 reported",
            ],
            Rows(table).Select(r => Clean(r.TextContent))), Wait);
        Assert.Equal(partial.RequestId, Rows(table)[0].QuerySelector("[data-request-id]")!.GetAttribute("data-request-id"));
        // The status reads as a failure or a success by its colour too.
        Assert.Contains("mud-chip-color-error", Rows(table)[0].QuerySelector("[data-testid=request-status] .mud-chip")!.ClassName);
        Assert.Contains("mud-chip-color-success", Rows(table)[1].QuerySelector("[data-testid=request-status] .mud-chip")!.ClassName);
        Assert.Equal("Key", Rows(table)[1].QuerySelectorAll("td")[3].GetAttribute("data-label"));
    }

    [Fact]
    public async Task ARowOfRefusalsCountedTogetherSaysHowManyItStandsFor()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var counted = Record(ada.Id, App.Now(), "glm-5", prompt: 0, completion: 0, cost: 0, status: 402, error: "insufficient_quota", ttft: null);
        counted.Requests = 1_234;
        await App.AddAsync(counted, Record(ada.Id, App.Now().AddMinutes(-1), "glm-5", status: 402, error: "insufficient_quota"));

        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, RequestFilter.None));

        table.WaitForAssertion(() => Assert.Equal(2, Rows(table).Count), Wait);
        Assert.Equal("× 1,234 requests", Assert.Single(table.FindAll("[data-testid=request-count]")).TextContent.Trim());
        Assert.Contains("× 1,234 requests", Rows(table)[0].TextContent);
    }

    [Fact]
    public async Task AnEmptyFilteredListSaysNothingMatches()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        await App.AddAsync(Record(ada.Id, App.Now(), "glm-5"));
        var (filter, _) = RequestFilter.Parse("kimi-k2", null, null, null, null, ["glm-5", "kimi-k2"], []);

        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, filter).Add(c => c.Filtered, true));

        table.WaitForAssertion(() => Assert.Equal("No requests match these filters.", table.Find("[data-testid=requests-empty]").TextContent.Trim()), Wait);
    }

    [Fact]
    public async Task TheGridReadsEachPageFromTheStoreAndSortsByTime()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var records = Enumerable.Range(0, RequestTable.PageSize + 2).Select(i => Record(ada.Id, App.Now().AddMinutes(-i))).ToArray();
        await App.AddAsync(records);
        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, RequestFilter.None));
        table.WaitForAssertion(() => Assert.Equal(RequestTable.PageSize, Rows(table).Count), Wait);
        Assert.Equal(records[0].RequestId, RequestId(Rows(table)[0]));
        Assert.Contains("Requests 1–25 of 27", Clean(table.Markup));

        table.Find("button[aria-label='Next page']").Click();

        table.WaitForAssertion(() => Assert.Equal([records[^2].RequestId, records[^1].RequestId], Rows(table).Select(RequestId)), Wait);
        Assert.Contains("Requests 26–27 of 27", Clean(table.Markup));

        // Oldest first, by the Time header: the second page is now the store's two newest, not
        // this page's rows turned round.
        table.Find(".mud-table-head .sort-direction-icon").Click();

        table.WaitForAssertion(() => Assert.Equal([records[1].RequestId, records[0].RequestId], Rows(table).Select(RequestId)), Wait);
        table.Find("button[aria-label='Previous page']").Click();
        table.WaitForAssertion(() => Assert.Equal(records[^1].RequestId, RequestId(Rows(table)[0])), Wait);
    }

    [Fact]
    public async Task APagePastTheEndOpensTheLastPageNotAnEmptyList()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var records = Enumerable.Range(0, RequestTable.PageSize + 2).Select(i => Record(ada.Id, App.Now().AddMinutes(-i))).ToArray();
        await App.AddAsync(records);

        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, RequestFilter.None).Add(c => c.StartPage, 40));

        table.WaitForAssertion(() => Assert.Equal([records[^2].RequestId, records[^1].RequestId], Rows(table).Select(RequestId)), Wait);
        Assert.Contains("Requests 26–27 of 27", Clean(table.Markup));
        Assert.Empty(table.FindAll("[data-testid=requests-empty]"));
    }

    [Fact]
    public async Task TheLedgerLabelsEachEntryAndShowsTheBalanceAfterIt()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var ledger = App.Services.GetRequiredService<CreditsLedger>();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await ledger.GrantAsync(ada.Id, 5_000_000, "welcome", actorId: null);
        Assert.Equal(HoldOutcome.Held, await writer.TryHoldAsync(ada.Id, null, "req_one", 1_000_000));
        await writer.SettleAsync(new Settlement(ada.Id, null, "req_one", 1_000_000, 123), Record(ada.Id, App.Now()));
        await ledger.GrantAsync(ada.Id, -500_000, "correction", actorId: null);

        var withHolds = Render<LedgerTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.IncludeHolds, true));
        var settled = Render<LedgerTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.IncludeHolds, false));

        withHolds.WaitForAssertion(() => Assert.Equal(
            [
                "Deduction correction −$0.50 $4.499877",
                "Charge req_one −$0.000123 $4.999877",
                "Hold released req_one +$1.00 $5.00",
                "Hold req_one −$1.00 $4.00",
                "Credit grant welcome +$5.00 $5.00",
            ],
            LedgerRows(withHolds).Select(r => Clean(r.TextContent)[20..])), Wait);
        settled.WaitForAssertion(() => Assert.Equal(["Deduction", "Charge", "Credit grant"], LedgerRows(settled).Select(r => r.QuerySelectorAll("td")[1].TextContent.Trim())), Wait);
        Assert.Contains("kind-hold", LedgerRows(withHolds)[3].ClassName);
    }

    [Fact]
    public async Task TheDashboardListsOnlyTheSignedInUsersOwnRequestsAndLedger()
    {
        var ada = await SignInAsync("ada@example.com");
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var ledger = App.Services.GetRequiredService<CreditsLedger>();
        await ledger.GrantAsync(ada.Id, 5_000_000, "ada's welcome", actorId: null);
        await ledger.GrantAsync(bob.Id, 7_000_000, "bob's grant", actorId: null);
        var adas = Record(ada.Id, App.Now(), "glm-5");
        var bobs = Record(bob.Id, App.Now(), "glm-5");
        await App.AddAsync(adas, bobs);

        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal([adas.RequestId], Rows(page).Select(RequestId)), Wait);
        page.WaitForAssertion(() => Assert.Equal("ada's welcome", LedgerRows(page).Single().QuerySelectorAll("td")[2].TextContent.Trim()), Wait);
        Assert.DoesNotContain(bobs.RequestId, page.Markup);
        Assert.DoesNotContain("bob's grant", page.Markup);
        Assert.Contains("/dashboard/requests.csv", page.Find("[data-testid=csv-export]").GetAttribute("href"));
    }

    [Theory]
    [InlineData("?page=abc&ledger=-3", 0)] // a hand-edited page number shows the first page
    [InlineData("?page=40&ledger=7", 25)] // past the end: the last page, not an empty history
    public async Task APageNumberFromTheAddressIsReadSafely(string query, int firstShown)
    {
        var ada = await SignInAsync("ada@example.com");
        var records = Enumerable.Range(0, RequestTable.PageSize + 2).Select(i => Record(ada.Id, App.Now().AddMinutes(-i))).ToArray();
        await App.AddAsync(records);
        await App.Services.GetRequiredService<CreditsLedger>().GrantAsync(ada.Id, 1_000_000, "welcome", actorId: null);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/dashboard" + query);

        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal(records[firstShown].RequestId, RequestId(Rows(page)[0])), Wait);
        page.WaitForAssertion(() => Assert.Contains("welcome", LedgerRows(page).Single().TextContent), Wait);
        Assert.Empty(page.FindAll("[data-testid=requests-empty], [data-testid=ledger-empty]"));
    }

    [Fact]
    public async Task ApplyingFiltersPutsThemInTheAddressFromTheFirstPage()
    {
        await SignInAsync("ada@example.com");
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/dashboard?page=3&status=error");
        var page = Render<DashboardPage>();
        page.WaitForAssertion(() => Assert.Equal("No requests match these filters.", page.Find("[data-testid=requests-empty]").TextContent.Trim()), Wait);

        page.Find("[data-testid=request-filters]").Submit();

        Assert.Equal("/dashboard?status=error#requests", new Uri(navigation.Uri).PathAndQuery + new Uri(navigation.Uri).Fragment);
    }

    [Fact]
    public async Task TheHoldsSwitchPutsHoldsInTheAddressFromTheLedgersFirstPage()
    {
        await SignInAsync("ada@example.com");
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/dashboard?ledger=2");
        var page = Render<DashboardPage>();

        page.Find("input[data-testid=holds-toggle], [data-testid=holds-toggle] input").Change(true);

        Assert.Equal("/dashboard?holds=1#ledger", new Uri(navigation.Uri).PathAndQuery + new Uri(navigation.Uri).Fragment);
    }

    [Fact]
    public async Task PickingFromTheDropDownsAndTypingADateFiltersTheList()
    {
        Render<MudBlazor.MudPopoverProvider>();
        IReadOnlyDictionary<string, string?>? applied = null;
        var filters = Render<RequestFilters>(p => p
            .Add(c => c.Filter, RequestFilter.None)
            .Add(c => c.Models, ["glm-5", "kimi-k2"])
            .Add(c => c.Keys, [("key-1", "laptop")])
            .Add(c => c.OnApply, values => applied = values));

        await filters.InvokeAsync(() => filters.FindComponents<MudBlazor.MudSelect<string>>()[2].Instance.SelectOption("error"));
        filters.Find("input[placeholder='yyyy-mm-dd']").Change("2026-11-01");
        filters.Find("form").Submit();

        Assert.NotNull(applied);
        Assert.Equal(("error", "2026-11-01"), (applied["status"], applied["from"]));
        Assert.Null(applied["model"]);
    }

    [Fact]
    public async Task ABadFilterIsExplainedAndNothingIsListed()
    {
        await SignInAsync("ada@example.com");
        Services.GetRequiredService<NavigationManager>().NavigateTo("/dashboard?from=2026-11-20&to=2026-11-01");

        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal("The start date (2026-11-20) is after the end date (2026-11-01).", Clean(page.Find("[data-testid=filter-errors]").TextContent)), Wait);
        Assert.Empty(page.FindAll("[data-testid=request-table], [data-testid=csv-export]"));
    }

    [Fact]
    public async Task ARowShowsItsEndUserAndCachedTokensAndItsDetailThePricesItWasChargedAt()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var cached = Record(ada.Id, App.Now().Date.AddHours(9), "glm-5", prompt: 2_000, completion: 10, cost: 800);
        (cached.EndUser, cached.CachedTokens) = ("customer-7", 1_500);
        (cached.InputPriceMicros, cached.CachedInputPriceMicros, cached.OutputPriceMicros) = (1_500_000, 300_000, 5_000_000);
        await App.AddAsync(cached);

        var table = Render<RequestTable>(p => p.Add(c => c.UserId, ada.Id).Add(c => c.Filter, RequestFilter.None));

        table.WaitForAssertion(() => Assert.Equal("2026-11-22 09:00:00 glm-5 Playground for customer-7 2,000 / 10 1,500 cached $0.0008 500 ms 100 ms 200 reported",
            Clean(Assert.Single(Rows(table)).TextContent)), Wait);
        Assert.Empty(table.FindAll("[data-testid=request-detail]"));

        Rows(table)[0].QuerySelector("button")!.Click();

        table.WaitForAssertion(() => Assert.Equal("input $1.50 · cached input $0.30 · output $5.00", Clean(table.Find("[data-testid=detail-prices]").TextContent)), Wait);
        Assert.Equal("customer-7", table.Find("[data-testid=detail-end-user]").TextContent.Trim());
        Assert.Equal("2,000, of which 1,500 cached", table.Find("[data-testid=detail-prompt]").TextContent.Trim());
    }

    [Fact]
    public async Task TheEndUserInTheAddressListsOnlyThatEndUsersRequestsAndFillsTheFilter()
    {
        var ada = await SignInAsync("ada@example.com");
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var mine = Record(ada.Id, App.Now());
        mine.EndUser = "customer-7";
        var other = Record(ada.Id, App.Now().AddMinutes(-1));
        other.EndUser = "customer-8";
        var bobs = Record(bob.Id, App.Now());
        bobs.EndUser = "customer-7";
        await App.AddAsync(mine, other, bobs, Record(ada.Id, App.Now().AddMinutes(-2)));
        Services.GetRequiredService<NavigationManager>().NavigateTo("/dashboard?user=customer-7");

        var page = Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal([mine.RequestId], Rows(page).Select(r => r.QuerySelector("[data-request-id]")!.GetAttribute("data-request-id"))), Wait);
        Assert.Equal("customer-7", page.Find("input#filter-end-user").GetAttribute("value"));
        Assert.Contains("user=customer-7", page.Find("[data-testid=csv-export]").GetAttribute("href"));
    }

    [Fact]
    public void TypingAnEndUserFiltersByIt()
    {
        IReadOnlyDictionary<string, string?>? applied = null;
        var filters = Render<RequestFilters>(p => p
            .Add(c => c.Filter, RequestFilter.None)
            .Add(c => c.Models, ["glm-5"])
            .Add(c => c.Keys, [])
            .Add(c => c.OnApply, values => applied = values));

        filters.Find("input#filter-end-user").Change("customer-7");
        filters.Find("form").Submit();

        Assert.NotNull(applied);
        Assert.Equal("customer-7", applied["user"]);
    }

    private async Task<PortalUser> SignInAsync(string email)
    {
        var user = await App.CreateUserAsync(email, Password);
        SignInAs(email);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        return user;
    }

    private static IReadOnlyList<IElement> Rows(IRenderedComponent<IComponent> grid) => grid.FindAll("[data-testid=request-table] tr.request-row");

    private static IReadOnlyList<IElement> LedgerRows(IRenderedComponent<IComponent> grid) => grid.FindAll("[data-testid=ledger-table] tr.ledger-row");

    private static string? RequestId(IElement row) => row.QuerySelector("[data-request-id]")?.GetAttribute("data-request-id");

    private static string Clean(string text) => Regex.Replace(text, @"\s+", " ").Trim();
}
