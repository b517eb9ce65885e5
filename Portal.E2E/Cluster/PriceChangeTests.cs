using System.Diagnostics;
using System.Text.Json;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Cluster;

/// <summary>An admin edits a model's price in the browser on one instance; the other quotes it within a second.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PriceChangeTests(ClusterFixture fixture)
{
    private PortalCluster Cluster => fixture.Cluster;

    [PostgresFact]
    public async Task APriceSavedOnOneInstanceIsQuotedByTheOtherWithinASecond()
    {
        var admin = Account.New("admin");
        await Cluster.Instances[0].CreateUserAsync(admin.Email, admin.Password, admin: true);
        var api = await Cluster.CreateApiAccountAsync(credits: 0, rateLimitPerMinute: 10_000);
        using var b = Cluster.ApiClient(1, api.Key);
        Assert.Equal(6.50m, await OutputPriceAsync(b)); // the seeded price, now cached by B

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await PortalFixture.LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new() { BaseURL = Cluster.Instances[0].BaseAddress.ToString() });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();
        await login.SignInAsync(admin);
        await Expect(login.Header.UserEmail).ToHaveTextAsync(admin.Email);
        var models = new AdminModelsPage(page);
        await models.GotoAsync();
        await models.EditAsync("deepseek-r1");
        await page.Locator("#model-output-price").FillAsync("9.25");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(models.Editor).Not.ToBeVisibleAsync();

        var clock = Stopwatch.StartNew();
        while (await OutputPriceAsync(b) != 9.25m && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        // The editor closed once the change was stored; the one-second snapshot, plus a busy machine's slack.
        Assert.True(clock.Elapsed <= TimeSpan.FromSeconds(1.5), $"instance B quoted the old price {clock.Elapsed.TotalMilliseconds:0} ms after the save");
    }

    private static async Task<decimal> OutputPriceAsync(HttpClient client)
    {
        using var model = JsonDocument.Parse(await client.GetStringAsync("/api/v1/models/deepseek-r1"));
        return model.RootElement.GetProperty("pricing").GetProperty("output").GetDecimal();
    }
}
