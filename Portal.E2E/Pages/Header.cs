namespace Portal.E2E.Pages;

/// <summary>
/// The app bar every page shares: navigation and the signed-in user's menu. On narrow screens they
/// move into a drawer behind the menu button, and the app bar's copies are hidden, so each link is
/// found among the visible ones, wherever it is.
/// </summary>
public sealed class Header(IPage page)
{
    private ILocator Visible(ILocator locator) => locator.Filter(new() { Visible = true });

    public ILocator UserEmail => Visible(page.GetByTestId("user-email"));

    public ILocator SignOutButton => Visible(page.GetByTestId("sign-out"));

    public ILocator SignInLink => Visible(page.Locator("header.topbar, .nav-drawer").GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }));

    public ILocator AdminLink => Visible(page.GetByTestId("nav-admin"));

    public ILocator ThemeToggle => page.GetByTestId("theme-toggle");

    /// <summary>The context switch's button in the app bar: "Personal" or the organization's name.</summary>
    public ILocator Context => Visible(page.GetByTestId("context-switch").Locator("button"));

    /// <summary>Opens the context switch (the app bar's menu, or the drawer's list on a phone) and picks <paramref name="item"/>.</summary>
    public async Task SwitchContextAsync(string item)
    {
        if (await Context.CountAsync() == 0)
        {
            await OpenMenuAsync();
            await page.GetByTestId("context-list").GetByRole(AriaRole.Link, new() { Name = item, Exact = false }).ClickAsync();
            return;
        }

        await Context.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(item, new() { Exact = true }).ClickAsync();
    }

    public Task SignOutAsync() => SignOutButton.ClickAsync();

    public Task OpenAdminAsync() => AdminLink.ClickAsync();

    /// <summary>Below MudBlazor's md breakpoint (960 px) the navigation sits in a drawer behind a menu button.</summary>
    public Task OpenMenuAsync() => page.GetByRole(AriaRole.Button, new() { Name = "Show navigation" }).ClickAsync();
}
