using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Tests.Gateway;

namespace Portal.Tests.ApiKeys;

/// <summary>A key its owner pauses is refused as paused (not as unknown) until it is resumed; nothing else about it changes.</summary>
public sealed class PauseKeyTests : ApiKeysPageTestBase
{
    private static string StatusOf(IRenderedComponent<KeysPageHost> page, string keyId) =>
        RowOf(page, keyId).QuerySelector("[data-testid=key-status]")!.TextContent.Trim();

    [Fact]
    public async Task PausingAsksFirstAndCancellingLeavesTheKeyActive()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        var page = RenderPageAs(user);

        Button(page, "Pause").Click();

        page.WaitForElement("[data-testid=pause-dialog]");
        var dialog = page.Find("[role=dialog]");
        Assert.Equal("Pause “ci”?", page.Find($"#{dialog.GetAttribute("aria-labelledby")}").TextContent);
        Assert.Contains(key.Masked(), dialog.QuerySelector("[data-testid=pause-dialog]")!.TextContent);
        Button(page, "Cancel").Click();

        Assert.Empty(page.FindAll("[role=dialog]"));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).PausedAt);
        Assert.Equal("Active", StatusOf(page, key.Id));
    }

    [Fact]
    public async Task APausedKeyIsRefusedAsPausedAndResumingRestoresIt()
    {
        var user = await App.CreateUserAsync("ada@example.com", Password);
        var (key, plaintext) = await KeyService.CreateAsync(user.Id, new NewApiKey("ci"));
        using var api = App.ApiClient(plaintext);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/key")).StatusCode);
        var page = RenderPageAs(user);

        Button(page, "Pause").Click();
        page.WaitForElement("[data-testid=pause-dialog]"); // the dialog opens asynchronously
        Button(page, "Pause key").Click();

        page.WaitForAssertion(() => Assert.Equal("Paused", StatusOf(page, key.Id)), TimeSpan.FromSeconds(10));
        Assert.Contains(Snackbars(page), s => s.Contains("Paused “ci”. Requests with it are refused within a second"));
        Assert.Equal(App.Time.GetUtcNow().UtcDateTime, Assert.Single(await KeysOfAsync(user.Id)).PausedAt);
        App.Time.Advance(TimeSpan.FromSeconds(1)); // past the resolver's one-second cache
        var refused = await api.PostChatAsync("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}]}""");
        var error = await GatewayFixtures.AssertErrorAsync(refused, 401, "api_key_paused");
        Assert.Contains("paused", error["message"]!.GetValue<string>());
        Assert.Equal(0, await App.InStoreAsync(db => db.UsageRecords.CountAsync()));

        Button(page, "Resume").Click();

        page.WaitForAssertion(() => Assert.Equal("Active", StatusOf(page, key.Id)), TimeSpan.FromSeconds(10));
        Assert.Null(Assert.Single(await KeysOfAsync(user.Id)).PausedAt);
        App.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/key")).StatusCode);
    }

    [Fact]
    public async Task APausedKeyCanStillBeRevokedAndARevokedOneNeitherPausedNorResumed()
    {
        var ada = await App.CreateUserAsync("ada@example.com", Password);
        var bob = await App.CreateUserAsync("bob@example.com", Password);
        var (key, _) = await KeyService.CreateAsync(ada.Id, new NewApiKey("ci"));

        Assert.False(await KeyService.PauseAsync(bob.Id, key.Id)); // not Bob's
        Assert.True(await KeyService.PauseAsync(ada.Id, key.Id));
        Assert.False(await KeyService.PauseAsync(ada.Id, key.Id)); // already paused
        Assert.True(await KeyService.RevokeAsync(ada.Id, key.Id));
        Assert.False(await KeyService.ResumeAsync(ada.Id, key.Id));
        Assert.Equal(ApiKeyStatus.Revoked, Assert.Single(await KeysOfAsync(ada.Id)).StatusAt(App.Time.GetUtcNow().UtcDateTime));
    }

    [Fact]
    public async Task TheCommandLinePausesAndResumesAKey()
    {
        await App.CreateUserAsync("dev@example.test", Password);
        var plaintext = (await App.RunCliAsync("create-key", "--email", "dev@example.test", "--name", "temp")).Stdout.Trim();
        var id = await App.InStoreAsync(db => db.ApiKeys.Select(k => k.Id).SingleAsync());

        var paused = await App.RunCliAsync("pause-key", "--id", id);
        Assert.Equal(0, paused.ExitCode);
        Assert.StartsWith("Paused key 'temp'", paused.Stdout);
        Assert.Contains(" paused ", (await App.RunCliAsync("list-keys", "--email", "dev@example.test")).Stdout);
        Assert.Equal(1, (await App.RunCliAsync("pause-key", "--id", id)).ExitCode);
        App.Time.Advance(TimeSpan.FromSeconds(1));
        await GatewayFixtures.AssertErrorAsync(await App.ApiClient(plaintext).GetAsync("/api/v1/key"), 401, "api_key_paused");

        Assert.Equal(0, (await App.RunCliAsync("resume-key", "--id", id)).ExitCode);
        Assert.Equal(1, (await App.RunCliAsync("resume-key", "--id", id)).ExitCode);
        App.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(plaintext).GetAsync("/api/v1/key")).StatusCode);
    }
}
