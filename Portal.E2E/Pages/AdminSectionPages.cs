namespace Portal.E2E.Pages;

/// <summary>/admin/models: the catalog with its editor.</summary>
public sealed class AdminModelsPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/models";

    protected override bool IsInteractive => true;

    public ILocator RowOf(string model) => Page.Locator($"tr[data-model='{model}']");

    public Task EditAsync(string model) => Page.GetByRole(AriaRole.Button, new() { Name = $"Edit {model}", Exact = true }).ClickAsync();

    public ILocator Editor => Page.GetByRole(AriaRole.Region, new() { Name = "Edit" });
}

/// <summary>/admin/upstreams?model=…: a model's providers.</summary>
public sealed class AdminUpstreamsPage(IPage page, string model = "glm-5") : BasePage(page)
{
    public override string PagePath => $"/admin/upstreams?model={model}";

    protected override bool IsInteractive => true;

    public ILocator Rows => Page.Locator("tr[data-upstream]");

    public Task TestConnectionAsync(int id) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Test the connection of upstream {id}", Exact = true }).ClickAsync();

    public ILocator TestResult(int id) => Page.GetByTestId($"connection-test-{id}");

    public Task EditAsync(int id) => Page.GetByRole(AriaRole.Button, new() { Name = $"Edit upstream {id}" }).ClickAsync();

    public ILocator TimeoutHint => Page.Locator("#upstream-timeout-hint");
}

/// <summary>/admin/service: the public API switch and the usage charts.</summary>
public sealed class AdminServicePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/service";

    protected override bool IsInteractive => true;

    public ILocator ApiState => Page.GetByTestId("api-state");

    public ILocator UsageTotals => Page.GetByTestId("usage-totals");
}

/// <summary>/admin/audit: the audit log and its chain check.</summary>
public sealed class AdminAuditPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin/audit";

    protected override bool IsInteractive => true;

    public Task VerifyAsync() => Page.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();

    public ILocator ChainResult => Page.GetByTestId("chain-result");

    public ILocator Entries => Page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Grid).Locator("tbody tr");
}
