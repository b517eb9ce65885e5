using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

public sealed class KeyListTests : ApiKeysPageTestBase
{
    [Fact]
    public async Task WithNoKeysThePageExplainsWhatKeysAreForAndLinksToTheDocs()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);

        var page = RenderPageAs(user);

        var empty = page.Find("[data-testid=keys-empty]");
        Assert.Contains("No keys yet", empty.TextContent);
        Assert.Contains("/api/v1", empty.TextContent);
        Assert.NotNull(empty.QuerySelector("a[href='/docs']"));
        Assert.Empty(Rows(page));
    }

    [Fact]
    public async Task AKeyStoredAboveTheCeilingShowsTheLimitEnforced()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("old"));
        // As a key created before ApiKeys:MaxRequestsPerMinute (600 by default) existed.
        await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.RateLimitPerMinute, 100_000)));

        var page = RenderPageAs(user);

        Assert.Equal("600 / min (the most allowed; set to 100,000)", Cell(RowOf(page, key.Id), "Rate limit"));
    }

    [Fact]
    public async Task AnotherUsersKeysNeverAppear()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var (adas, _) = await KeyService.CreateAsync(ada.Id, new NewApiKey("ada's key"));
        var (bobs, _) = await KeyService.CreateAsync(bob.Id, new NewApiKey("bob's key"));

        var page = RenderPageAs(ada);

        var name = Assert.Single(page.FindAll("[data-testid=key-name]"));
        Assert.Equal(adas.Id, name.GetAttribute("data-key-id"));
        Assert.DoesNotContain("bob's key", page.Markup);
        Assert.DoesNotContain(bobs.Last4 + "<", page.Markup);
        Assert.DoesNotContain(bobs.Id, page.Markup);
    }

    [Fact]
    public async Task AUserWithNoKeysSeesNoneOfAnotherUsersKeys()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        await KeyService.CreateAsync(bob.Id, new NewApiKey("bob's key"));

        var page = RenderPageAs(ada);

        Assert.NotNull(page.Find("[data-testid=keys-empty]"));
        Assert.DoesNotContain("bob's key", page.Markup);
    }

    [Fact]
    public async Task KeysAreListedNewestFirst()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("first"));
        App.Time.Advance(TimeSpan.FromMinutes(1));
        await KeyService.CreateAsync(user.Id, new NewApiKey("second"));

        var page = RenderPageAs(user);

        Assert.Equal(["second", "first"], page.FindAll(".key-name").Select(n => n.TextContent).ToList());
    }

    [Fact]
    public async Task LongListsPageFromTheStore()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        for (var i = 0; i < KeyList.PageSize + 1; i++)
        {
            await KeyService.CreateAsync(user.Id, new NewApiKey($"key {i:00}"));
            App.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var page = RenderPageAs(user);

        WaitForRows(page, KeyList.PageSize);
        Assert.Contains("Keys 1–20 of 21", page.Find(".mud-table-pagination").TextContent);
        Assert.True(PagerButton(page, "Previous page").HasAttribute("disabled"));

        PagerButton(page, "Next page").Click();

        WaitForRows(page, 1);
        Assert.Equal("key 00", page.Find(".key-name").TextContent);
        Assert.True(PagerButton(page, "Next page").HasAttribute("disabled"));
    }

    [Fact]
    public async Task AFewKeysNeedNoPager()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("only"));

        var page = RenderPageAs(user);

        Assert.Single(Rows(page));
        Assert.Empty(page.FindAll(".mud-table-pagination button"));
    }

    [Fact]
    public async Task SortingByAColumnOrdersEveryKeyNotJustTheLoadedPage()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        for (var i = 0; i < KeyList.PageSize + 1; i++)
        {
            var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey($"key {i:00}"));
            // The oldest key is the most used: sorted by spend it leads, though it is on the last page by date.
            await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.SpentMicros, 1_000_000 - i)));
            App.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var page = RenderPageAs(user);
        WaitForRows(page, KeyList.PageSize);
        Assert.Equal("key 20", page.Find(".key-name").TextContent);

        SortBy(page, "Spent"); // ascending first: the least spent, i.e. the newest
        page.WaitForAssertion(() => Assert.Equal("key 20", page.Find(".key-name").TextContent), TimeSpan.FromSeconds(10));
        SortBy(page, "Spent"); // then descending: the most spent, from what was the last page
        page.WaitForAssertion(() => Assert.Equal("key 00", page.Find(".key-name").TextContent), TimeSpan.FromSeconds(10));
        Assert.Equal(KeyList.PageSize, Rows(page).Count);

        SortBy(page, "Name");
        page.WaitForAssertion(() => Assert.Equal(["key 00", "key 01"], page.FindAll(".key-name").Take(2).Select(n => n.TextContent)), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LastUseAndSpendAreShown()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("used", SpendCapMicros: 4_000_000));
        await App.InStoreAsync(db => db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s
            .SetProperty(k => k.SpentMicros, 1_000_000)
            .SetProperty(k => k.LastUsedAt, new DateTime(2026, 11, 22, 10, 15, 0))));

        var page = RenderPageAs(user);

        var row = Assert.Single(Rows(page));
        Assert.Equal("2026-11-22 10:15 UTC", Cell(row, "Last used"));
        Assert.Contains("$1.00 of $4.00", Cell(row, "Spent"));
        Assert.Equal("25", row.QuerySelector("[role=progressbar]")!.GetAttribute("aria-valuenow"));
    }

    private static AngleSharp.Dom.IElement PagerButton(IRenderedComponent<IComponent> page, string label) =>
        page.Find($".mud-table-pagination button[aria-label='{label}']");

    private static void SortBy(IRenderedComponent<IComponent> page, string column) =>
        page.FindAll("th").Single(th => th.TextContent.Trim() == column).QuerySelector(".sortable-column-header")!.Click();
}
