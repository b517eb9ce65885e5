using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Theme;

namespace Portal.Tests.Components;

/// <summary>The light/dark toggle: in place on interactive pages, a form on static ones.</summary>
public sealed class ThemeToggleTests : ComponentTestBase
{
    [Fact]
    public async Task OnAnInteractivePageTheToggleFlipsTheThemeAndRemembersItInTheBrowser()
    {
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        var remembered = JSInterop.SetupVoid("portal.setTheme", "dark");
        remembered.SetVoidResult();
        bool? changedTo = null;
        var toggle = Render<ThemeToggle>(p => p
            .Add(t => t.IsDark, false)
            .Add(t => t.IsDarkChanged, dark => changedTo = dark));

        var button = toggle.Find("[data-testid=theme-toggle]");
        Assert.Equal("Switch to dark theme", button.GetAttribute("aria-label"));
        await button.ClickAsync(new());

        Assert.True(changedTo);
        remembered.VerifyInvoke("portal.setTheme");
        Assert.Empty(toggle.FindAll("form"));
    }

    [Fact]
    public void OnAStaticPageTheToggleIsAFormThatPostsTheOtherModeAndComesBack()
    {
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        Services.GetRequiredService<NavigationManager>().NavigateTo("/login?returnUrl=%2Fdashboard");

        var toggle = Render<ThemeToggle>(p => p.Add(t => t.IsDark, true));

        var form = toggle.Find("form");
        Assert.Equal("/theme", form.GetAttribute("action"));
        Assert.Equal("light", toggle.Find("input[name=mode]").GetAttribute("value"));
        Assert.Equal("/login?returnUrl=%2Fdashboard", toggle.Find("input[name=returnUrl]").GetAttribute("value"));
        Assert.Equal("Switch to light theme", toggle.Find("[data-testid=theme-toggle]").GetAttribute("aria-label"));
    }
}

/// <summary>The theme cookie, end to end through the real app: what is chosen is what is rendered.</summary>
public sealed class ThemeSwitchTests : IAsyncLifetime
{
    private readonly PortalApplication _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task ChoosingDarkOnASignInPageRendersEveryPageDarkAfterwards()
    {
        using var browser = _app.CreateBrowser();
        Assert.Contains("data-theme=\"light\"", await browser.GetPageAsync("/login"));

        var response = await browser.SubmitFormAsync("/login", "theme", new Dictionary<string, string> { ["mode"] = "dark", ["returnUrl"] = "/login" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Headers.Location?.OriginalString);
        Assert.Contains("data-theme=\"dark\"", await browser.GetPageAsync("/login"));
        Assert.Contains("data-theme=\"dark\"", await browser.GetPageAsync("/"));
    }

    [Fact]
    public async Task TheSystemsSettingIsFollowedUntilAChoiceIsMade()
    {
        using var browser = _app.CreateBrowser();
        browser.Cookies.Add(new Cookie(ThemePreference.SystemCookie, "dark", "/", "localhost"));
        Assert.Contains("data-theme=\"dark\"", await browser.GetPageAsync("/"));

        browser.Cookies.Add(new Cookie(ThemePreference.ChoiceCookie, "light", "/", "localhost"));
        Assert.Contains("data-theme=\"light\"", await browser.GetPageAsync("/"));
    }

    [Theory]
    [InlineData("//evil.example/phish")]
    [InlineData("/\\evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("")]
    public async Task TheToggleOnlyEverSendsTheBrowserBackToThisSite(string returnUrl)
    {
        using var browser = _app.CreateBrowser();

        var response = await browser.SubmitFormAsync("/login", "theme", new Dictionary<string, string> { ["mode"] = "dark", ["returnUrl"] = returnUrl });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AnUnknownModeChangesNothing()
    {
        using var browser = _app.CreateBrowser();

        await browser.SubmitFormAsync("/login", "theme", new Dictionary<string, string> { ["mode"] = "<script>", ["returnUrl"] = "/login" });

        Assert.DoesNotContain(browser.Cookies.GetCookies(browser.Client.BaseAddress!), c => c.Name == ThemePreference.ChoiceCookie);
        Assert.Contains("data-theme=\"light\"", await browser.GetPageAsync("/login"));
    }

    [Fact]
    public async Task TheSwitchRefusesAPostWithoutTheAntiforgeryToken()
    {
        using var browser = _app.CreateBrowser();

        var response = await browser.Client.PostAsync("/theme", new FormUrlEncodedContent(new Dictionary<string, string> { ["mode"] = "dark" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(browser.Cookies.GetCookies(browser.Client.BaseAddress!), c => c.Name == ThemePreference.ChoiceCookie);
    }
}
