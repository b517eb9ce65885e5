using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

public sealed class RevokeKeyTests : ApiKeysPageTestBase
{
    [Fact]
    public async Task RevokingAsksFirstAndCancellingLeavesTheKeyLive()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);

        Button(page, "Revoke").Click();

        var dialog = page.Find("[role=dialog]");
        Assert.Equal("Revoke “ci”?", page.Find($"#{dialog.GetAttribute("aria-labelledby")}").TextContent);
        Assert.Contains(key.Masked(), dialog.QuerySelector("[data-testid=revoke-dialog]")!.TextContent);
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);

        Button(page, "Cancel").Click();

        Assert.Empty(page.FindAll("[role=dialog]"));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);
        Assert.Equal("Active", RowOf(page, key.Id).QuerySelector("[data-testid=key-status]")!.TextContent);
    }

    /// <summary>Escape, which MudBlazor hears through its script, is the browser journey's to try.</summary>
    [Fact]
    public async Task ClickingBesideTheConfirmationClosesItWithoutRevoking()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);
        Button(page, "Revoke").Click();

        page.Find(".mud-overlay").Click();

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[role=dialog]")));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);
        Assert.Equal("Active", RowOf(page, key.Id).QuerySelector("[data-testid=key-status]")!.TextContent.Trim());
        Assert.Empty(Snackbars(page));
    }

    [Fact]
    public async Task ConfirmingRevokesTheKeyAndTheApiStopsAcceptingIt()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, plaintext) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);
        Button(page, "Revoke").Click();
        page.WaitForElement("[data-testid=revoke-dialog]"); // the dialog opens asynchronously

        Button(page, "Revoke key").Click();

        page.WaitForAssertion(() => Assert.Equal("Revoked", RowOf(page, key.Id).QuerySelector("[data-testid=key-status]")!.TextContent), TimeSpan.FromSeconds(10));
        Assert.Empty(page.FindAll("[role=dialog]"));
        Assert.Contains(Snackbars(page), s => s.Contains("Revoked “ci”. Requests with it are refused within a second."));
        Assert.Empty(RowOf(page, key.Id).QuerySelectorAll("button"));
        Assert.Equal(App.Time.GetUtcNow().UtcDateTime, Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);
        Assert.Null(await App.Services.GetRequiredService<ApiKeyResolver>().ResolveAsync(plaintext));
    }

    [Fact]
    public async Task AUserCannotRevokeAnotherUsersKeyThroughThePage()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        await KeyService.CreateAsync(ada.Id, new NewApiKey("ada's key"));
        var (bobsKey, _) = await KeyService.CreateAsync(bob.Id, new NewApiKey("bob's key"));
        var page = RenderPageAs(ada);

        // As if a tampered client asked Ada's list to revoke Bob's key id. Not awaited: it waits for the dialog.
        var list = page.FindComponent<KeyList>();
        _ = page.InvokeAsync(() => list.Instance.OnRevoke.InvokeAsync(bobsKey));
        page.WaitForElement("[data-testid=revoke-dialog]");
        Button(page, "Revoke key").Click();

        page.WaitForAssertion(() => Assert.Contains(Snackbars(page), s => s.Contains("isn't one of yours")), TimeSpan.FromSeconds(10));
        Assert.Null(Assert.Single(await KeysOfAsync(bob.Id)).RevokedAt);
        Assert.Null(Assert.Single(await KeysOfAsync(ada.Id)).RevokedAt);
        Assert.DoesNotContain("bob's key", page.Markup);
    }

    [Fact]
    public async Task ExpiredAndRevokedKeysAreMarkedAndOfferNoRevoke()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var now = App.Time.GetUtcNow().UtcDateTime;
        var (expiring, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("short-lived", ExpiresAt: now.AddDays(1)));
        var (revoked, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("old"));
        var (live, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("live"));
        await KeyService.RevokeAsync(user.Id, revoked.Id);
        App.Time.Advance(TimeSpan.FromDays(2));

        var page = RenderPageAs(user);

        string Status(ApiKey k) => RowOf(page, k.Id).QuerySelector("[data-testid=key-status]")!.TextContent;
        Assert.Equal("Expired", Status(expiring));
        Assert.Equal("Revoked", Status(revoked));
        Assert.Equal("Active", Status(live));
        Assert.Contains($"since {now.AddDays(1):yyyy-MM-dd HH:mm} UTC", Cell(RowOf(page, expiring.Id), "Status"));
        Assert.Contains($"since {now:yyyy-MM-dd HH:mm} UTC", Cell(RowOf(page, revoked.Id), "Status"));
        Assert.Single(page.FindAll("button"), b => b.TextContent.Trim() == "Revoke");
        Assert.NotNull(RowOf(page, live.Id).QuerySelector("button"));
    }
}
