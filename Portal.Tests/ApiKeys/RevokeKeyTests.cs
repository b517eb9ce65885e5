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

        var dialog = page.Find("[data-testid=revoke-dialog]");
        Assert.Equal("alertdialog", dialog.GetAttribute("role"));
        Assert.Contains("Revoke “ci”?", dialog.TextContent);
        Assert.Contains(key.Masked(), dialog.TextContent);
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);

        Button(page, "Cancel").Click();

        Assert.Empty(page.FindAll("[data-testid=revoke-dialog]"));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);
        Assert.Equal("Active", RowOf(page, key.Id).QuerySelector("[data-testid=key-status]")!.TextContent);
    }

    [Fact]
    public async Task EscapeClosesTheConfirmationWithoutRevoking()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);
        Button(page, "Revoke").Click();

        page.Find("[data-testid=revoke-dialog]").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Escape" });

        Assert.Empty(page.FindAll("[data-testid=revoke-dialog]"));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).RevokedAt);
    }

    [Fact]
    public async Task ConfirmingRevokesTheKeyAndTheApiStopsAcceptingIt()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, plaintext) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);
        Button(page, "Revoke").Click();

        Button(page, "Revoke key").Click();

        page.WaitForAssertion(() => Assert.Equal("Revoked", RowOf(page, key.Id).QuerySelector("[data-testid=key-status]")!.TextContent), TimeSpan.FromSeconds(10));
        Assert.Empty(page.FindAll("[data-testid=revoke-dialog]"));
        Assert.Contains("Revoked “ci”", page.Find("[role=status]").TextContent);
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

        // As if a tampered client asked Ada's card to revoke Bob's key id.
        var card = page.FindComponent<KeyCard>();
        await page.InvokeAsync(() => card.Instance.OnRevoke.InvokeAsync(bobsKey));
        Button(page, "Revoke key").Click();

        page.WaitForAssertion(() => Assert.Contains("isn't one of yours", page.Find("[role=alert]").TextContent), TimeSpan.FromSeconds(10));
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
        Assert.Single(page.FindAll("button"), b => b.TextContent.Trim() == "Revoke");
        Assert.NotNull(RowOf(page, live.Id).QuerySelector("button"));
    }
}
