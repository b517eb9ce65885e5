using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Admin;
using Portal.Data;
using Portal.Tests.Components;
using Radzen;

namespace Portal.Tests.Admin;

/// <summary>The admin page's account list, rendered with bUnit against a real (SQLite) store.</summary>
public sealed class AdminPageTests : ComponentTestBase, IAsyncLifetime
{
    private readonly PortalApplication _app = new();

    public AdminPageTests()
    {
        // Radzen's grid calls into its JavaScript; none of it matters to what is listed.
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddRadzenComponents();
        Services.AddSingleton(_app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task TheAdminPageListsAccountsWithTheirRoleOldestFirst()
    {
        await _app.CreateUserAsync("zed@example.com", "correct horse battery", admin: true);
        _app.Time.Advance(TimeSpan.FromDays(1));
        await _app.CreateUserAsync("amy@example.com", "correct horse battery");

        var page = RenderComponent<AdminPage>();

        // The grid loads from the store asynchronously; this waits for that render, not for time.
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tbody tr").Count), TimeSpan.FromSeconds(10));
        var rows = page.FindAll("tbody tr")
            .Select(row => row.QuerySelectorAll("td").Select(cell => cell.TextContent.Trim()).ToList())
            .ToList();
        Assert.Equal(["zed@example.com", "Admin", "2026-11-22 09:30 UTC"], rows[0]);
        Assert.Equal(["amy@example.com", "User", "2026-11-23 09:30 UTC"], rows[1]);
    }
}
