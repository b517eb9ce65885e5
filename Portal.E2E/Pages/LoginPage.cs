using Portal.E2E.Infrastructure;

namespace Portal.E2E.Pages;

public sealed class LoginPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/login";

    protected override bool IsInteractive => false;

    public ILocator Error => Page.Locator(".auth-card").GetByRole(AriaRole.Alert);

    public Task SignInAsync(Account account) => SignInAsync(account.Email, account.Password);

    public async Task SignInAsync(string email, string password)
    {
        await Page.Locator("#email").FillAsync(email);
        await Page.Locator("#password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }
}
