using System.Text.RegularExpressions;

namespace Portal.E2E.Pages;

/// <summary>One page of Portal: where it lives, and what every page shares (the header).</summary>
public abstract class BasePage(IPage page)
{
    /// <summary>The path, relative to the server (the browser context carries the base URL).</summary>
    public abstract string PagePath { get; }

    /// <summary>
    /// Interactive pages are prerendered first and only handle clicks once their circuit is up;
    /// account pages are plain server-rendered forms and never get a circuit.
    /// </summary>
    protected abstract bool IsInteractive { get; }

    public IPage Page { get; } = page;

    public Header Header => new(Page);

    /// <summary>Opens the page and, for an interactive one, waits until it responds to clicks.</summary>
    public async Task GotoAsync()
    {
        await Page.GotoAsync(PagePath);
        if (IsInteractive)
        {
            await WaitUntilInteractiveAsync();
        }
    }

    /// <summary>The layout marks itself once the circuit has rendered (MainLayout.OnAfterRender).</summary>
    public Task WaitUntilInteractiveAsync() =>
        Page.Locator(".shell[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>Asserts the browser is on this page (any query string allowed).</summary>
    public Task ExpectOpenAsync() =>
        Expect(Page).ToHaveURLAsync(new Regex($"^https?://[^/]+{Regex.Escape(PagePath)}(\\?.*)?$"));
}
