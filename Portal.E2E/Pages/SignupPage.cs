using Portal.E2E.Infrastructure;

namespace Portal.E2E.Pages;

public sealed class SignupPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/signup";

    protected override bool IsInteractive => false;

    private ILocator Card => Page.GetByRole(AriaRole.Region, new() { Name = "Create your account", Exact = true });

    public ILocator PasswordBox => Card.GetByLabel("Password", new() { Exact = true });

    public ILocator Error => Card.GetByRole(AriaRole.Alert);

    public async Task CreateAccountAsync(Account account) => await CreateAccountAsync(account.Email, account.Password, account.Password);

    public async Task CreateAccountAsync(string email, string password, string confirm)
    {
        await Card.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await PasswordBox.FillAsync(password);
        await Card.GetByLabel("Confirm password", new() { Exact = true }).FillAsync(confirm);
        await Card.GetByRole(AriaRole.Button, new() { Name = "Create account", Exact = true }).ClickAsync();
    }
}
