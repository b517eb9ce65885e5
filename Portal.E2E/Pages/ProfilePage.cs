namespace Portal.E2E.Pages;

public sealed class ProfilePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/settings/profile";

    protected override bool IsInteractive => false;

    public ILocator Account => Page.GetByRole(AriaRole.Region, new() { Name = "Your account", Exact = true });

    private ILocator PasswordCard => Page.GetByRole(AriaRole.Region, new() { Name = "Change password", Exact = true });

    public ILocator PasswordChanged => PasswordCard.GetByRole(AriaRole.Status);

    public ILocator PasswordError => PasswordCard.GetByRole(AriaRole.Alert);

    public async Task ChangePasswordAsync(string current, string next)
    {
        await PasswordCard.GetByLabel("Current password", new() { Exact = true }).FillAsync(current);
        await PasswordCard.GetByLabel("New password", new() { Exact = true }).FillAsync(next);
        await PasswordCard.GetByLabel("Confirm new password", new() { Exact = true }).FillAsync(next);
        await PasswordCard.GetByRole(AriaRole.Button, new() { Name = "Change password", Exact = true }).ClickAsync();
    }
}
