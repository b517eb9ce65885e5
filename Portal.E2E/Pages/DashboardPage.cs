namespace Portal.E2E.Pages;

public sealed class DashboardPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/dashboard";

    protected override bool IsInteractive => true;

    public ILocator Available => Page.GetByTestId("balance-available");

    public ILocator OnHold => Page.GetByTestId("balance-hold");

    public ILocator ModelRows => Page.GetByTestId("model-row");

    /// <summary>The requests grid's rows on the page shown (not its loading or empty row).</summary>
    public ILocator RequestRows => Page.GetByTestId("request-table").Locator("tr.request-row");

    public ILocator LedgerRows => Page.GetByTestId("ledger-table").Locator("tr.ledger-row");

    public ILocator FilterErrors => Page.GetByTestId("filter-errors");

    public ILocator CsvExport => Page.GetByTestId("csv-export");

    public ILocator Request(string requestId) => RequestRows.Filter(new() { Has = Page.Locator($"[data-request-id='{requestId}']") });

    /// <summary>The value in a request row's cell, by its column title (Key, Cost, Status, Usage…).</summary>
    public ILocator CellOf(ILocator row, string label) => row.Locator($"td[data-label='{label}']");

    public ILocator ModelFilter => Page.GetByLabel("Model", new() { Exact = true });

    public ILocator KeyFilter => Page.GetByLabel("Key", new() { Exact = true });

    public ILocator StatusFilter => Page.GetByLabel("Status", new() { Exact = true });

    public ILocator FromFilter => Page.GetByLabel("From (UTC)");

    public ILocator ToFilter => Page.GetByLabel("To (UTC)");

    public Task ApplyFiltersAsync() => Page.GetByTestId("apply-filters").ClickAsync();

    /// <summary>Opens a drop-down filter (MudSelect) and picks an option by its text.</summary>
    public async Task ChooseAsync(ILocator filter, string option)
    {
        await filter.ClickAsync();
        await Page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
    }

    /// <summary>Clicks "Export CSV" and returns the downloaded file's text.</summary>
    public async Task<string> ExportCsvAsync()
    {
        var download = await Page.RunAndWaitForDownloadAsync(() => CsvExport.ClickAsync());
        var path = await download.PathAsync();
        return await File.ReadAllTextAsync(path);
    }
}
