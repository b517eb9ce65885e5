namespace Portal.E2E.Pages;

/// <summary>The top bar every page shares: navigation and the signed-in user's menu.</summary>
public sealed class Header(IPage page)
{
    private ILocator Bar => page.Locator("header.topbar");

    public ILocator UserEmail => Bar.GetByTestId("user-email");

    public ILocator SignOutButton => Bar.GetByTestId("sign-out");

    public ILocator SignInLink => Bar.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true });

    public ILocator AdminLink => Bar.GetByTestId("nav-admin");

    public Task SignOutAsync() => SignOutButton.ClickAsync();

    public Task OpenAdminAsync() => AdminLink.ClickAsync();

    /// <summary>
    /// Below 820 px the navigation sits behind a hamburger: a transparent checkbox laid over the
    /// drawn icon, so the checkbox is what a user actually taps.
    /// </summary>
    public Task OpenMenuAsync() => Bar.GetByRole(AriaRole.Checkbox, new() { Name = "Show navigation" }).CheckAsync();
}
