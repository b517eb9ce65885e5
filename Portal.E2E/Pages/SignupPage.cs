using Portal.E2E.Infrastructure;

namespace Portal.E2E.Pages;

public sealed class SignupPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/signup";

    protected override bool IsInteractive => false;

    public async Task CreateAccountAsync(Account account)
    {
        await Page.Locator("#email").FillAsync(account.Email);
        await Page.Locator("#password").FillAsync(account.Password);
        await Page.Locator("#confirm").FillAsync(account.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account", Exact = true }).ClickAsync();
    }
}
