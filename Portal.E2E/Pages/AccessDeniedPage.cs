namespace Portal.E2E.Pages;

public sealed class AccessDeniedPage(IPage page) : BasePage(page)
{
    public override string PagePath => "/access-denied";

    protected override bool IsInteractive => false;

    public ILocator Heading => Page.GetByRole(AriaRole.Heading, new() { Level = 1 });
}
