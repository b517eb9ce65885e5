namespace Portal.E2E.Pages;

public sealed class ProfilePage(IPage page) : BasePage(page)
{
    public override string PagePath => "/settings/profile";

    protected override bool IsInteractive => false;
}
