using System.Text.RegularExpressions;

namespace Portal.E2E.Pages;

/// <summary>/orgs/new: an organization's name, then its dashboard.</summary>
public sealed class CreateOrganizationPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/orgs/new";

    protected override bool IsInteractive => true;

    /// <summary>Creates the organization and returns its id, read from the dashboard's address it lands on.</summary>
    public async Task<string> CreateAsync(string name)
    {
        await Page.Locator("#org-name").FillAsync(name);
        await Page.GetByTestId("create-org-submit").ClickAsync();
        await Expect(Page.GetByTestId("org-name")).ToHaveTextAsync(name);
        return Regex.Match(Page.Url, "/orgs/([0-9a-f-]{36})").Groups[1].Value;
    }
}

/// <summary>An organization's pages under /orgs/{id}: the tabs share the header with its name and the member's role.</summary>
public abstract class OrganizationPage(IPage page, string id) : BasePage(page)
{
    public string Id { get; } = id;

    protected override bool IsInteractive => true;

    public ILocator Name => Page.GetByTestId("org-name");

    public ILocator Snackbars => Page.Locator(".mud-snackbar");
}

public sealed class OrganizationDashboardPage(IPage page, string id) : OrganizationPage(page, id)
{
    public override string PagePath => $"/orgs/{Id}";

    public ILocator Balance => Page.GetByTestId("balance-available").Locator(".stat-value");

    public ILocator MemberSpend => Page.GetByTestId("member-spend");

    /// <summary>What <paramref name="email"/>'s organization keys spent this month, as the card shows it.</summary>
    public ILocator SpendOf(string email) =>
        Page.Locator($"[data-testid=member-spend-row][data-member='{email}'] [data-testid=member-spend-amount]");
}

public sealed class OrganizationMembersPage(IPage page, string id) : OrganizationPage(page, id)
{
    public override string PagePath => $"/orgs/{Id}/members";

    public ILocator InviteResult => Page.GetByTestId("invite-result");

    public ILocator RowOf(string email) => Page.Locator($"[data-testid=member-row][data-member='{email}']");

    public ILocator InvitationTo(string email) => Page.Locator($"[data-testid=invitation-row][data-email='{email}']");

    public async Task InviteAsync(string email)
    {
        await Page.Locator("#invite-email").FillAsync(email);
        await Page.GetByTestId("invite-submit").ClickAsync();
    }
}

public sealed class OrganizationKeysPage(IPage page, string id) : OrganizationPage(page, id)
{
    public override string PagePath => $"/orgs/{Id}/keys";

    public ILocator CreateForm => Page.GetByTestId("create-key-form");

    public ILocator NewKey => Page.GetByTestId("new-key");

    public ILocator Rows => Page.GetByTestId("org-key-row");

    /// <summary>Makes a key with a budget per month through the form; returns the plaintext shown once.</summary>
    public async Task<string> CreateKeyAsync(string name, string monthlyBudgetUsd)
    {
        await Page.GetByTestId("org-create-key").ClickAsync();
        await Page.Locator("#key-name").FillAsync(name);
        await Page.Locator("#key-budget").FillAsync(monthlyBudgetUsd);
        await CreateForm.GetByLabel("Per", new() { Exact = true }).ClickAsync();
        await Page.GetByRole(AriaRole.Option, new() { Name = "Month", Exact = true }).ClickAsync();
        await CreateForm.GetByRole(AriaRole.Button, new() { Name = "Create key", Exact = true }).ClickAsync();
        await Expect(NewKey).ToBeVisibleAsync();
        return (await NewKey.TextContentAsync())!;
    }
}

/// <summary>/admin/organizations: the organizations, and the credit form an admin grants them credits with.</summary>
public sealed class AdminOrganizationsPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/organizations";

    protected override bool IsInteractive => true;

    public ILocator CreditForm => Page.GetByRole(AriaRole.Region, new() { Name = "Adjust the credits of" });

    public ILocator Snackbar => Page.GetByRole(AriaRole.Status).Locator(".mud-snackbar-content-message");

    public async Task GrantAsync(string organization, string amountUsd, string reason)
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = $"Adjust credits of {organization}", Exact = true }).ClickAsync();
        await CreditForm.GetByLabel("Amount in USD").FillAsync(amountUsd);
        await CreditForm.GetByLabel("Reason").FillAsync(reason);
        await CreditForm.GetByRole(AriaRole.Button, new() { Name = "Grant credits", Exact = true }).ClickAsync();
        var confirmation = Page.GetByRole(AriaRole.Dialog);
        await confirmation.GetByRole(AriaRole.Button, new() { Name = $"Grant ${amountUsd}.00", Exact = true }).ClickAsync();
        await Expect(confirmation).ToHaveCountAsync(0);
    }
}
