using System.Text.RegularExpressions;

namespace Portal.E2E.Pages;

/// <summary>/admin/models: the catalog with its editor.</summary>
public sealed class AdminModelsPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/models";

    protected override bool IsInteractive => true;

    public ILocator ModelsTable => Page.GetByRole(AriaRole.Table, new() { Name = "Models", Exact = true });

    public ILocator RowOf(string model) =>
        ModelsTable.GetByRole(AriaRole.Row).Filter(new() { Has = Page.Locator($"[data-model='{model}']") });

    public Task EditAsync(string model) => Page.GetByRole(AriaRole.Button, new() { Name = $"Edit {model}", Exact = true }).ClickAsync();

    public ILocator Editor => Page.GetByRole(AriaRole.Region, new() { Name = "Edit" });
}

/// <summary>/admin/upstreams?model=…: a model's providers.</summary>
public sealed class AdminUpstreamsPage(IPage page, string model = "glm-5") : BasePage(page)
{
    public override string PagePath => $"/admin/upstreams?model={model}";

    protected override bool IsInteractive => true;

    public ILocator Rows => Page.GetByRole(AriaRole.Table, new() { Name = "Upstreams", Exact = true }).Locator("tbody tr:has([data-upstream])");

    public Task TestConnectionAsync(int id) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Test the connection of upstream {id}", Exact = true }).ClickAsync();

    public ILocator TestResult(int id) => Page.GetByTestId($"connection-test-{id}");

    public Task EditAsync(int id) => Page.GetByRole(AriaRole.Button, new() { Name = $"Edit upstream {id}" }).ClickAsync();

    public Task RemoveAsync(int id) => Page.GetByRole(AriaRole.Button, new() { Name = $"Remove upstream {id}", Exact = true }).ClickAsync();

    /// <summary>The timeout field's hint (MudBlazor's helper text, which the field's aria-describedby names).</summary>
    public ILocator TimeoutHint => Page.Locator("#upstream-timeout-helper-text");

    public ILocator Confirmation => Page.GetByRole(AriaRole.Dialog);
}

/// <summary>/admin/service: the public API switch and the usage charts.</summary>
public sealed class AdminServicePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/service";

    protected override bool IsInteractive => true;

    public ILocator ApiState => Page.GetByTestId("api-state");

    public ILocator UsageTotals => Page.GetByTestId("usage-totals");

    public Task AskToSwitchAsync(bool on) =>
        Page.GetByRole(AriaRole.Button, new() { Name = on ? "Switch the API on…" : "Switch the API off…" }).ClickAsync();

    public ILocator Confirmation => Page.GetByRole(AriaRole.Dialog);

    public ILocator Snackbar => Page.GetByRole(AriaRole.Status).Locator(".mud-snackbar-content-message");
}

/// <summary>/admin/audit: the audit log and its chain check.</summary>
public sealed class AdminAuditPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/audit";

    protected override bool IsInteractive => true;

    public Task VerifyAsync() => Page.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();

    public ILocator ChainResult => Page.GetByTestId("chain-result");

    public ILocator Entries => Page.GetByRole(AriaRole.Table, new() { Name = "Audit entries", Exact = true }).Locator("tbody tr.mud-table-row");

    /// <summary>Shows only the entries of <paramref name="action"/> (the grid's Action filter).</summary>
    public async Task FilterAsync(string action)
    {
        await Page.GetByLabel("Action").ClickAsync();
        await Page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex($"^{Regex.Escape(action)}$") }).ClickAsync();
    }
}

/// <summary>/admin/outbox: the mail Portal sent or is trying to send.</summary>
public sealed class AdminOutboxPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/outbox";

    protected override bool IsInteractive => true;

    public ILocator Rows => Page.GetByRole(AriaRole.Table, new() { Name = "Outbox messages", Exact = true }).Locator("tbody tr");

    public ILocator RowTo(string address) => Rows.Filter(new() { HasText = address });
}
