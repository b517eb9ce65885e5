using Bunit;
using Microsoft.Extensions.DependencyInjection;
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

    [Fact]
    public void DashboardAndKeysFollowTheOrganizationInTheAddress()
    {
        const string Org = "6f1c2d3e-0000-4000-8000-000000000001";
        SignInAs("ada@example.com");
        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var menu = Render<NavMenu>();
        Assert.Equal(("/dashboard", "/settings/apikeys"), Links(menu));

        navigation.NavigateTo($"/orgs/{Org}/members");
        menu.WaitForAssertion(() => Assert.Equal(($"/orgs/{Org}", $"/orgs/{Org}/keys"), Links(menu)));

        navigation.NavigateTo("/orgs/new");
        menu.WaitForAssertion(() => Assert.Equal(("/dashboard", "/settings/apikeys"), Links(menu)));
    }

    private static (string?, string?) Links(IRenderedComponent<NavMenu> menu) =>
        (menu.Find("[data-testid=nav-dashboard]").GetAttribute("href"), menu.Find("[data-testid=nav-keys]").GetAttribute("href"));
}
