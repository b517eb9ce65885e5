using System.Text.RegularExpressions;

namespace Portal.E2E.Pages;

/// <summary>/admin: the users grid, search, the credit grant/deduct form, role changes.</summary>
public sealed class AdminPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin";

    protected override bool IsInteractive => true;

    public ILocator AccountsGrid => Page.GetByRole(AriaRole.Table, new() { Name = "Accounts", Exact = true });

    /// <summary>What the page reports after an action: MudBlazor's snackbars, in their live region.</summary>
    public ILocator Snackbar => Page.GetByRole(AriaRole.Status).Locator(".mud-snackbar-content-message");

    public ILocator CreditForm => Page.GetByRole(AriaRole.Region, new() { Name = "Adjust the credits of" });

    public ILocator CreditFormError => CreditForm.GetByRole(AriaRole.Alert);

    /// <summary>The confirmation every grant, deduction and role change asks first.</summary>
    public ILocator Confirmation => Page.GetByRole(AriaRole.Dialog);

    /// <summary>The row whose email is exactly <paramref name="email"/> (on a phone its cell also carries the column's label).</summary>
    public ILocator RowOf(string email) =>
        AccountsGrid.GetByRole(AriaRole.Row)
            .Filter(new() { Has = Page.GetByRole(AriaRole.Cell, new() { NameRegex = new Regex($"(^|\\s){Regex.Escape(email)}$") }) });

    public ILocator Rows => AccountsGrid.Locator("tbody tr.mud-table-row");

    public async Task SearchAsync(string text)
    {
        await Page.GetByLabel("Search by email").FillAsync(text);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
    }

    public Task OpenCreditFormAsync(string email) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Adjust credits of {email}", Exact = true }).ClickAsync();

    public async Task FillCreditFormAsync(string amountUsd, string reason, bool deduct = false)
    {
        await CreditForm.GetByLabel(deduct ? "Deduct: take credits away" : "Grant: add credits").CheckAsync();
        await CreditForm.GetByLabel("Amount in USD").FillAsync(amountUsd);
        await CreditForm.GetByLabel("Reason").FillAsync(reason);
    }

    public Task SubmitCreditFormAsync(bool deduct = false) =>
        CreditForm.GetByRole(AriaRole.Button, new() { Name = deduct ? "Deduct credits" : "Grant credits", Exact = true }).ClickAsync();

    /// <summary>Presses <paramref name="button"/> in the open confirmation (e.g. "Grant $12.50", "Cancel").</summary>
    public async Task AnswerAsync(string button)
    {
        await Confirmation.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
        await Expect(Confirmation).ToHaveCountAsync(0);
    }

    public Task MakeAdminAsync(string email) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Make {email} an admin", Exact = true }).ClickAsync();
}
