using Portal.E2E.Infrastructure;
using Portal.E2E.Pages;

namespace Portal.E2E.Journeys;

/// <summary>
/// Light and dark in a real browser: Portal follows the system's setting until the person picks one
/// with the toggle, and then remembers the pick in this browser, on interactive and static pages.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ThemeJourneyTests(PortalFixture portal, ITestOutputHelper output) : BrowserTest(portal, output)
{
    [Fact]
    public Task ADarkSystemGetsTheDarkThemeAndThePersonsPickIsRemembered() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        var home = new HomePage(page);

        await home.GotoAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "dark");
        Assert.True(await IsDarkAsync(page), "the page background is not dark");

        await home.Header.ThemeToggle.ClickAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "light");
        Assert.False(await IsDarkAsync(page), "the page background is still dark");

        // Remembered in this browser, over the system's setting, on the next page and a static one.
        await page.ReloadAsync();
        await home.WaitUntilInteractiveAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "light");
        await new LoginPage(page).GotoAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "light");
    });

    [Fact]
    public Task OnASignInPageTheToggleWorksWithoutACircuit() => RunAsync(async () =>
    {
        var page = await NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "light");

        await login.Header.ThemeToggle.ClickAsync();

        await login.ExpectOpenAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "dark");
        Assert.True(await IsDarkAsync(page), "the page background is not dark");
        var home = new HomePage(page);
        await home.GotoAsync();
        await Expect(Shell(page)).ToHaveAttributeAsync("data-theme", "dark");
    });

    private static ILocator Shell(IPage page) => page.Locator(".shell");

    /// <summary>What a person sees: the page's computed background is dark (low luminance).</summary>
    private static async Task<bool> IsDarkAsync(IPage page) =>
        await page.EvaluateAsync<bool>("""
            () => {
                const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
                return 0.2126 * r + 0.7152 * g + 0.0722 * b < 80;
            }
            """);
}
