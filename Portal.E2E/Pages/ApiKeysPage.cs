namespace Portal.E2E.Pages;

public sealed class ApiKeysPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/settings/apikeys";

    protected override bool IsInteractive => true;

    public ILocator CreateButton => Page.GetByRole(AriaRole.Button, new() { Name = "Create key", Exact = true });

    public ILocator EmptyState => Page.GetByTestId("keys-empty");

    public ILocator CreateForm => Page.GetByTestId("create-key-form");

    public ILocator NameBox => CreateForm.GetByLabel("Name", new() { Exact = true });

    public ILocator SpendCapBox => CreateForm.GetByLabel("Spend cap in USD");

    public ILocator RateLimitBox => CreateForm.GetByLabel("Requests per minute");

    public ILocator NewKeyPanel => Page.GetByTestId("new-key-panel");

    /// <summary>The plaintext key, present only while the panel after creation is open.</summary>
    public ILocator NewKey => Page.GetByTestId("new-key");

    public ILocator CopyStatus => NewKeyPanel.GetByRole(AriaRole.Status);

    /// <summary>The grid's rows that hold a key (not its header).</summary>
    public ILocator Rows => Page.GetByRole(AriaRole.Row).Filter(new() { Has = Page.GetByTestId("key-name") });

    public ILocator RevokeDialog => Page.GetByRole(AriaRole.Dialog);

    /// <summary>The outcomes the page reports in MudBlazor's snackbars.</summary>
    public ILocator Snackbars => Page.Locator(".mud-snackbar");

    public ILocator RowNamed(string name) =>
        Rows.Filter(new() { Has = Page.GetByTestId("key-name").And(Page.GetByText(name, new() { Exact = true })) });

    public ILocator StatusOf(string name) => RowNamed(name).GetByTestId("key-status");

    /// <summary>The value in a key's row under a column such as "Last used" (its label when rows fold into cards).</summary>
    public ILocator FactOf(string name, string fact) => RowNamed(name).Locator($"td[data-label='{fact}']");

    public async Task OpenCreateFormAsync()
    {
        await CreateButton.ClickAsync();
        await Expect(NameBox).ToBeFocusedAsync();
    }

    public Task SubmitCreateFormAsync() => CreateForm.GetByRole(AriaRole.Button, new() { Name = "Create key", Exact = true }).ClickAsync();

    /// <summary>Creates a key through the form and returns the plaintext the panel shows once.</summary>
    public async Task<string> CreateKeyAsync(string name)
    {
        await OpenCreateFormAsync();
        await NameBox.FillAsync(name);
        await SubmitCreateFormAsync();
        await Expect(NewKey).ToBeVisibleAsync();
        return (await NewKey.TextContentAsync())!;
    }

    public Task CopyNewKeyAsync() => NewKeyPanel.GetByRole(AriaRole.Button, new() { Name = "Copy", Exact = true }).ClickAsync();

    public Task CloseNewKeyAsync() => NewKeyPanel.GetByRole(AriaRole.Button, new() { Name = "I've stored it, close" }).ClickAsync();

    public Task AskToRevokeAsync(string name) => RowNamed(name).GetByRole(AriaRole.Button, new() { Name = $"Revoke {name}", Exact = true }).ClickAsync();

    public Task ConfirmRevokeAsync() => RevokeDialog.GetByRole(AriaRole.Button, new() { Name = "Revoke key", Exact = true }).ClickAsync();
}
