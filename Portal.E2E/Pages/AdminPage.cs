namespace Portal.E2E.Pages;

public sealed class AdminPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/admin";

    protected override bool IsInteractive => true;

    // By role alone: the grid has no accessible name (Radzen 11.5 has no AriaLabel parameter, so
    // the page's AriaLabel="Accounts" lands as a plain attribute on the wrapper).
    public ILocator AccountsGrid => Page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Grid);

    public ILocator RowOf(string email) =>
        AccountsGrid.GetByRole(AriaRole.Row)
            .Filter(new() { Has = Page.GetByRole(AriaRole.Gridcell, new() { Name = email, Exact = true }) });
}
