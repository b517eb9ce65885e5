using Portal.E2E.Infrastructure;

namespace Portal.E2E.Pages;

public sealed class LoginPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/login";

    protected override bool IsInteractive => false;

    private ILocator Card => Page.GetByRole(AriaRole.Region, new() { Name = "Sign in", Exact = true });

    public ILocator Error => Card.GetByRole(AriaRole.Alert);

    public Task SignInAsync(Account account) => SignInAsync(account.Email, account.Password);

    public async Task SignInAsync(string email, string password)
    {
        await Card.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await Card.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Card.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
    }
}
