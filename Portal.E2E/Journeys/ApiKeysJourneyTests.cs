using System.Net;
using System.Net.Http.Headers;
using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

[Collection(PortalCollection.Name)]
public sealed class ApiKeysJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    /// <summary>The resolver caches a key's state for one second; this leaves room for a busy machine.</summary>
    private static readonly TimeSpan RevocationDeadline = TimeSpan.FromSeconds(5);

    [Fact]
    public Task UserCreatesAKeyCallsTheApiWithItAndRevokesIt() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var page = await NewPageAsync(user);
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = Portal.Server.BaseAddress.ToString().TrimEnd('/') });
        var keys = new ApiKeysPage(page);
        await keys.GotoAsync();
        await Expect(keys.EmptyState).ToContainTextAsync("No keys yet");

        var plaintext = await keys.CreateKeyAsync("journey key");
        await Expect(keys.NewKeyPanel).ToContainTextAsync("This is the only time the key is shown. Store it now.");
        await keys.CopyNewKeyAsync();
        await Expect(keys.CopyStatus).ToHaveTextAsync("Copied to the clipboard.");
        Assert.Equal(plaintext, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        await page.ReloadAsync();
        await keys.WaitUntilInteractiveAsync();
        await Expect(keys.NewKeyPanel).ToHaveCountAsync(0);
        await Expect(keys.RowNamed("journey key")).ToContainTextAsync($"{plaintext[..14]}…{plaintext[^4..]}");
        Assert.DoesNotContain(plaintext[14..^4], await page.ContentAsync());
        await Expect(keys.FactOf("journey key", "Last used")).ToHaveTextAsync("Never");

        using var api = new HttpClient { BaseAddress = Portal.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", plaintext);
        using (var models = await api.GetAsync("/api/v1/models"))
        {
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }

        await page.ReloadAsync();
        await keys.WaitUntilInteractiveAsync();
        await Expect(keys.FactOf("journey key", "Last used")).ToContainTextAsync("UTC");

        await keys.AskToRevokeAsync("journey key");
        await Expect(keys.RevokeDialog).ToHaveAccessibleNameAsync("Revoke “journey key”?");
        await Expect(keys.RevokeDialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await keys.ConfirmRevokeAsync();
        await Expect(keys.StatusOf("journey key")).ToHaveTextAsync("Revoked");
        await Expect(keys.Snackbars).ToContainTextAsync("Revoked “journey key”.");

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceRevokedAsync(api));
    });

    [Fact]
    public Task OnAPhoneABadEntryIsExplainedAndKept() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var keys = new ApiKeysPage(await NewPageAsync(user, new() { Width = 390, Height = 844 }));
        await keys.GotoAsync();
        await keys.OpenCreateFormAsync();
        await keys.NameBox.FillAsync("phone key");
        await keys.RateLimitBox.FillAsync("0");

        await keys.SubmitCreateFormAsync();

        await Expect(keys.CreateForm).ToContainTextAsync("from 1 to 600");
        await Expect(keys.NameBox).ToHaveValueAsync("phone key");
        await Expect(keys.RateLimitBox).ToHaveValueAsync("0");
        await Expect(keys.NewKeyPanel).ToHaveCountAsync(0);

        // Left, the fixed field loses its message; waiting for that before the click keeps the change
        // ahead of the submit. Seen once on a busy machine: the submit was handled with "0", then the
        // change cleared its message, leaving neither a key nor an error.
        await keys.RateLimitBox.FillAsync("30");
        await keys.RateLimitBox.BlurAsync();
        await Expect(keys.CreateForm).Not.ToContainTextAsync("Enter a whole number of requests per minute");
        await keys.SubmitCreateFormAsync();

        await Expect(keys.NewKey).ToBeVisibleAsync();
        await Expect(keys.RowNamed("phone key")).ToContainTextAsync("30 / min");
    });

    [Fact]
    public Task EscapeClosesTheRevokeQuestionAndTheKeyStaysLive() => RunAsync(async () =>
    {
        var user = await Portal.CreateUserAsync();
        var keys = new ApiKeysPage(await NewPageAsync(user));
        await keys.GotoAsync();
        await keys.CreateKeyAsync("kept key");
        await keys.CloseNewKeyAsync();

        await keys.AskToRevokeAsync("kept key");
        // The dialog hears keys pressed inside it: once focus has moved in (to Cancel), as a user's would.
        await Expect(keys.RevokeDialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync();
        await keys.Page.Keyboard.PressAsync("Escape");

        await Expect(keys.RevokeDialog).ToHaveCountAsync(0);
        await Expect(keys.StatusOf("kept key")).ToHaveTextAsync("Active");
        await keys.Page.ReloadAsync();
        await keys.WaitUntilInteractiveAsync();
        await Expect(keys.StatusOf("kept key")).ToHaveTextAsync("Active");
    });

    /// <summary>
    /// Asks /api/v1/models until the revocation shows, up to a deadline: the answer may be cached
    /// for up to a second, so this waits for a state change, bounded, rather than for a time.
    /// </summary>
    private static async Task<HttpStatusCode> StatusOnceRevokedAsync(HttpClient api)
    {
        using var deadline = new CancellationTokenSource(RevocationDeadline);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        HttpStatusCode status;
        do
        {
            using var response = await api.GetAsync("/api/v1/models", CancellationToken.None);
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && await NextTickAsync(tick, deadline.Token));

        return status;
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer tick, CancellationToken deadline)
    {
        try
        {
            return await tick.WaitForNextTickAsync(deadline);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
