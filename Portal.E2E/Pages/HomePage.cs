namespace Portal.E2E.Pages;

public sealed class HomePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/";

    protected override bool IsInteractive => true;
}
