using Bunit;
using Portal.Account;
using Portal.Components.Layout;

namespace Portal.Tests.Components;

public sealed class NavMenuTests : ComponentTestBase
{
    private const string AdminLink = "[data-testid=nav-admin]";

    [Fact]
    public void AnAnonymousVisitorSeesNoAdminLink()
    {
        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll(AdminLink));
        Assert.NotEmpty(menu.FindAll("a[href='/docs']"));
    }

    [Fact]
    public void ASignedInUserSeesNoAdminLink()
    {
        SignInAs("ada@example.com");

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll(AdminLink));
    }

    [Fact]
    public void AUserWithAnotherRoleSeesNoAdminLink()
    {
        SignInAs("ada@example.com", "Support");

        var menu = Render<NavMenu>();

        Assert.Empty(menu.FindAll(AdminLink));
    }

    [Fact]
    public void AnAdminSeesTheAdminLink()
    {
        SignInAs("root@example.com", Roles.Admin);

        var menu = Render<NavMenu>();

        var link = menu.Find(AdminLink);
        Assert.Equal("/admin", link.GetAttribute("href"));
        Assert.Equal("Admin", link.TextContent.Trim());
    }
}
