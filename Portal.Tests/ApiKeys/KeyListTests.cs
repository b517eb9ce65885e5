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
        Assert.Empty(page.FindAll("[data-testid=key-row]"));
    }

    [Fact]
    public async Task AnotherUsersKeysNeverAppear()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var (adas, _) = await KeyService.CreateAsync(ada.Id, new NewApiKey("ada's key"));
        var (bobs, _) = await KeyService.CreateAsync(bob.Id, new NewApiKey("bob's key"));

        var page = RenderPageAs(ada);

        var row = Assert.Single(page.FindAll("[data-testid=key-row]"));
        Assert.Equal(adas.Id, row.GetAttribute("data-key-id"));
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
    public async Task LongListsPage()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        for (var i = 0; i < ApiKeysPage.PageSize + 1; i++)
        {
            await KeyService.CreateAsync(user.Id, new NewApiKey($"key {i:00}"));
            App.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var page = RenderPageAs(user);

        WaitForRows(page, ApiKeysPage.PageSize);
        Assert.Contains("Keys 1–20 of 21", page.Find(".pager").TextContent);
        Assert.True(Button(page, "Newer").HasAttribute("disabled"));

        Button(page, "Older").Click();

        WaitForRows(page, 1);
        Assert.Equal("key 00", page.Find(".key-name").TextContent);
        Assert.True(Button(page, "Older").HasAttribute("disabled"));
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

        var card = page.Find("[data-testid=key-row]");
        Assert.Contains("2026-11-22 10:15 UTC", card.TextContent);
        Assert.Contains("$1.00 of $4.00", card.TextContent);
        Assert.Equal("width: 25%", card.QuerySelector(".spend-bar > span")!.GetAttribute("style"));
    }
}
