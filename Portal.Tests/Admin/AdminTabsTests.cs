using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Tests.Components;

namespace Portal.Tests.Admin;

/// <summary>The bar of admin sections under each admin page's heading.</summary>
public sealed class AdminTabsTests : ComponentTestBase
{
    [Theory]
    [InlineData("/admin", "Users")]
    [InlineData("/admin/organizations", "Organizations")]
    [InlineData("/admin/models", "Models")]
    [InlineData("/admin/upstreams?model=glm-5", "Upstreams")]
    [InlineData("/admin/codes", "Codes")]
    [InlineData("/admin/audit", "Audit log")]
    [InlineData("/admin/outbox", "Outbox")]
    public void EachSectionIsALinkToItsOwnAddressAndTheCurrentOneIsMarked(string address, string current)
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo(address);

        var tabs = Render<AdminTabs>();

        var links = tabs.FindAll("nav[aria-label='Admin sections'] a");
        Assert.Equal(["/admin", "/admin/organizations", "/admin/models", "/admin/upstreams", "/admin/service", "/admin/codes", "/admin/audit", "/admin/outbox"], links.Select(a => a.GetAttribute("href")));
        Assert.Equal([current], links.Where(a => a.ClassList.Contains("active")).Select(a => a.TextContent.Trim()));
    }
}
