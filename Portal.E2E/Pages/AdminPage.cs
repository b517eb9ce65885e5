using System.Text.RegularExpressions;

namespace Portal.E2E.Pages;

/// <summary>/admin: the users list, search, and the credit grant/deduct form.</summary>
public sealed class AdminPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin";

    protected override bool IsInteractive => true;

    // By role alone: the grid has no accessible name (Radzen 11.5 has no AriaLabel parameter, so
    // the page's AriaLabel="Accounts" lands as a plain attribute on the wrapper).
    public ILocator AccountsGrid => Page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Grid);

    public ILocator Success => Page.Locator(".alert-success");

    public ILocator Error => Page.Locator(".alert-error");

    /// <summary>The row whose email is exactly <paramref name="email"/> (on a phone the role and join date sit under it).</summary>
    public ILocator RowOf(string email) =>
        AccountsGrid.GetByRole(AriaRole.Row)
            .Filter(new() { Has = Page.Locator(".user-email", new() { HasTextRegex = new Regex($"^{Regex.Escape(email)}$") }) });

    public async Task SearchAsync(string text)
    {
        await Page.GetByLabel("Search by email").FillAsync(text);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
    }

    public Task OpenCreditFormAsync(string email) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Adjust credits of {email}", Exact = true }).ClickAsync();

    public async Task FillCreditFormAsync(string amountUsd, string reason, bool deduct = false)
    {
        await Page.GetByLabel(deduct ? "Deduct: take credits away" : "Grant: add credits").CheckAsync();
        await Page.GetByLabel("Amount in USD").FillAsync(amountUsd);
        await Page.GetByLabel("Reason").FillAsync(reason);
    }

    public Task SubmitCreditFormAsync(bool deduct = false) =>
        Page.GetByRole(AriaRole.Button, new() { Name = deduct ? "Deduct credits" : "Grant credits", Exact = true }).ClickAsync();
}
