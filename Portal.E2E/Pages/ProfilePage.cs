namespace Portal.E2E.Pages;

public sealed class ProfilePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/settings/profile";

    protected override bool IsInteractive => false;

    public ILocator Account => Page.GetByRole(AriaRole.Region, new() { Name = "Your account", Exact = true });

    private ILocator PasswordCard => Page.GetByRole(AriaRole.Region, new() { Name = "Change password", Exact = true });

    public ILocator PasswordChanged => PasswordCard.GetByRole(AriaRole.Status);

    public ILocator PasswordError => PasswordCard.GetByRole(AriaRole.Alert);

    public ILocator LowBalanceCard => Page.GetByRole(AriaRole.Region, new() { Name = "Low-balance alert", Exact = true });

    public ILocator WebhookCard => Page.GetByRole(AriaRole.Region, new() { Name = "Webhook", Exact = true });

    public async Task SetLowBalanceAlertAsync(string usd)
    {
        await LowBalanceCard.GetByLabel("Alert me below (USD)").FillAsync(usd);
        await LowBalanceCard.GetByRole(AriaRole.Button, new() { Name = "Save alert", Exact = true }).ClickAsync();
    }

    public async Task SetWebhookAsync(string url)
    {
        await WebhookCard.GetByLabel("Webhook URL").FillAsync(url);
        await WebhookCard.GetByRole(AriaRole.Button, new() { Name = "Save webhook", Exact = true }).ClickAsync();
    }

    public async Task ChangePasswordAsync(string current, string next)
    {
        await PasswordCard.GetByLabel("Current password", new() { Exact = true }).FillAsync(current);
        await PasswordCard.GetByLabel("New password", new() { Exact = true }).FillAsync(next);
        await PasswordCard.GetByLabel("Confirm new password", new() { Exact = true }).FillAsync(next);
        await PasswordCard.GetByRole(AriaRole.Button, new() { Name = "Change password", Exact = true }).ClickAsync();
    }
}
