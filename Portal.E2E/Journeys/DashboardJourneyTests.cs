using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed class DashboardJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task ANewUsersKeyIsShownOnceAndItsRequestLandsOnTheDashboard() => RunAsync(async () =>
    {
        var account = Account.New();
        var page = await NewPageAsync();
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = Portal.Server.BaseAddress.ToString().TrimEnd('/') });
        var signup = new SignupPage(page);
        await signup.GotoAsync();
        await signup.CreateAccountAsync(account);
        await Expect(signup.Header.UserEmail).ToHaveTextAsync(account.Email);
        await Portal.Server.RunAdminAsync("grant-credits", "--email", account.Email, "--amount", "2", "--reason", "e2e credits");

        var keys = new ApiKeysPage(page);
        await keys.GotoAsync();
        var plaintext = await keys.CreateKeyAsync("dashboard journey");
        await keys.CopyNewKeyAsync();
        await Expect(keys.CopyStatus).ToHaveTextAsync("Copied to the clipboard.");
        Assert.Equal(plaintext, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        await page.ReloadAsync();
        await keys.WaitUntilInteractiveAsync();
        await Expect(keys.NewKeyPanel).ToHaveCountAsync(0);
        Assert.DoesNotContain(plaintext[14..^4], await page.ContentAsync());

        var (requestId, costUsd) = await CallTheApiAsync(plaintext);

        var dashboard = new DashboardPage(page);
        await dashboard.GotoAsync();
        var row = dashboard.Request(requestId);
        await Expect(row).ToBeVisibleAsync();
        await Expect(dashboard.CellOf(row, "Key")).ToHaveTextAsync("dashboard journey");
        await Expect(dashboard.CellOf(row, "Model")).ToHaveTextAsync("glm-5");
        await Expect(dashboard.CellOf(row, "Cost")).ToHaveTextAsync(Usd(costUsd));
        await Expect(dashboard.CellOf(row, "Usage")).ToHaveTextAsync("reported");
        Assert.True(costUsd > 0m);
        await Expect(dashboard.Available).ToContainTextAsync($"Available balance {Usd(2m - costUsd)}");
        await Expect(dashboard.LedgerRows.First).ToContainTextAsync("Charge");
        await Expect(dashboard.LedgerRows.Last).ToContainTextAsync("e2e credits");

        var csv = await dashboard.ExportCsvAsync();
        Assert.Contains($",{requestId},glm-5,dashboard journey,", csv);
    });

    [Fact]
    public Task AReplyStoppedInThePlaygroundShowsAsAPartialCharge() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        await Portal.Server.RunAdminAsync("grant-credits", "--email", user.Email, "--amount", "2", "--reason", "e2e");
        var page = await NewPageAsync(user);
        var playground = new PlaygroundPage(page);
        await playground.GotoAsync();
        await playground.AskAsync("Write a long essay about rivers.");
        await Expect(playground.LastReplyText).Not.ToBeEmptyAsync();
        await playground.Stop.ClickAsync();
        await Expect(playground.LastReplyUsage).ToContainTextAsync("stopped — charged for what arrived");
        var charged = Regex.Match((await playground.LastReplyUsage.TextContentAsync())!, @"\$[0-9.,]+").Value;

        var dashboard = new DashboardPage(page);
        await dashboard.GotoAsync();
        var row = dashboard.RequestRows.First;
        await Expect(dashboard.RequestRows).ToHaveCountAsync(1);
        await Expect(dashboard.CellOf(row, "Key")).ToHaveTextAsync("Playground");
        await Expect(dashboard.CellOf(row, "Usage")).ToHaveTextAsync("partial");
        await Expect(dashboard.CellOf(row, "Status")).ToContainTextAsync("client_disconnected");
        await Expect(dashboard.CellOf(row, "Cost")).ToHaveTextAsync(charged);
        await Expect(dashboard.OnHold).ToContainTextAsync("$0.00");

        // Filtering to failed requests keeps it; to succeeded ones leaves none.
        await dashboard.ChooseAsync(dashboard.StatusFilter, "Succeeded");
        await dashboard.ApplyFiltersAsync();
        await Expect(page).ToHaveURLAsync(new Regex("status=ok"));
        await Expect(dashboard.RequestRows).ToHaveCountAsync(0);
        await dashboard.ChooseAsync(dashboard.StatusFilter, "Failed");
        await dashboard.ApplyFiltersAsync();
        await Expect(dashboard.RequestRows).ToHaveCountAsync(1);
    });

    [Fact]
    public Task DatesTheWrongWayRoundAreExplained() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var dashboard = new DashboardPage(await NewPageAsync(user));
        await dashboard.GotoAsync();

        await dashboard.FromFilter.FillAsync("2026-03-10");
        await dashboard.ToFilter.FillAsync("2026-03-01");
        await dashboard.ApplyFiltersAsync();

        await Expect(dashboard.FilterErrors).ToHaveTextAsync("The start date (2026-03-10) is after the end date (2026-03-01).");
        await Expect(dashboard.CsvExport).ToHaveCountAsync(0);
    });

    [Fact]
    public Task TheStatusPageIsPublicAndLinkedFromEveryPage() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var home = new HomePage(page);
        await home.GotoAsync();
        await page.Locator("footer").GetByRole(AriaRole.Link, new() { Name = "Status", Exact = true }).ClickAsync();

        var status = new StatusPage(page);
        await status.ExpectOpenAsync();
        await Expect(page).ToHaveTitleAsync("Status · Portal");
        await Expect(status.Model("glm-5")).ToBeVisibleAsync();
        await Expect(status.Model("glm-5.2").GetByTestId("last-hour")).ToContainTextAsync(new Regex("No traffic|%"));

        // Interactive like the rest, for a visitor too: on a phone the app bar's menu opens.
        var phone = new StatusPage(await NewPageAsync(viewport: new() { Width = 390, Height = 844 }));
        await phone.GotoAsync();
        await phone.Header.OpenMenuAsync();
        await Expect(phone.Header.SignInLink).ToBeVisibleAsync();
    });

    /// <summary>One non-streamed completion with the key; its request id and what it cost.</summary>
    private async Task<(string RequestId, decimal CostUsd)> CallTheApiAsync(string key)
    {
        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var body = new StringContent("""{"model":"glm-5","max_tokens":24,"messages":[{"role":"user","content":"Say hello."}]}""", Encoding.UTF8, "application/json");
        using var response = await api.PostAsync("/api/v1/chat/completions", body);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        using var document = JsonDocument.Parse(json);
        var cost = document.RootElement.GetProperty("usage").GetProperty("cost").GetDecimal();
        return (response.Headers.GetValues("x-request-id").Single(), cost);
    }

    /// <summary>Portal's money format (Money.Format): at least cents, up to micro-dollars.</summary>
    private static string Usd(decimal amount) => amount.ToString("$#,0.00####", CultureInfo.InvariantCulture);
}
