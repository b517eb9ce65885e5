namespace Portal.E2E.Pages;

public sealed class StatusPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/status";

    protected override bool IsInteractive => true;

    public ILocator Model(string id) => Page.Locator($"[data-testid=status-model][data-model='{id}']");
}
