using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Admin;

namespace Portal.Tests.Admin;

public sealed class AdminPageAccessTests
{
    private const string Password = "correct horse battery";

    public static TheoryData<string, string> AdminPages => new()
    {
        { "/admin", "Users" },
        { "/admin/models", "Models and prices" },
        { "/admin/upstreams", "Upstreams" },
        { "/admin/service", "API and usage" },
        { "/admin/codes", "Redemption codes" },
        { "/admin/organizations", "Organizations" },
        { "/admin/audit", "Audit log" },
        { "/admin/outbox", "Outbox" },
    };

    [Fact]
    public void EveryAdminPageRequiresTheAdminRole()
    {
        var pages = typeof(AdminPage).Assembly.GetTypes()
            .Where(t => t.GetCustomAttributes<RouteAttribute>().Any(r => r.Template.StartsWith("/admin", StringComparison.Ordinal)))
            .ToList();

        Assert.Equal(AdminPages.Select(row => (string)row[0]).Order(), pages.SelectMany(p => p.GetCustomAttributes<RouteAttribute>()).Select(r => r.Template).Order());
        Assert.All(pages, page => Assert.Equal(AdminPolicy.Name, page.GetCustomAttribute<AuthorizeAttribute>()?.Policy));
    }

    [Fact]
    public async Task TheAdminPolicyRequiresTheAdminRoleAndTheSecondFactorCheck()
    {
        await using var app = new PortalApplication();
        var policy = await app.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(AdminPolicy.Name);

        Assert.NotNull(policy);
        Assert.Contains(policy.Requirements, r => r is Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement roles && roles.AllowedRoles.SequenceEqual([Roles.Admin]));
        Assert.Contains(policy.Requirements, r => r is AdminTwoFactorRequirement);
    }

    [Theory]
    [MemberData(nameof(AdminPages))]
    public async Task AnAnonymousVisitorIsSentToLogin(string path, string _)
    {
        await using var app = new PortalApplication();
        using var browser = app.CreateBrowser();

        var response = await browser.GetAsync(path);

        Assert.Equal($"/login?ReturnUrl={Uri.EscapeDataString(path)}", response.RedirectTarget());
    }

    [Theory]
    [MemberData(nameof(AdminPages))]
    public async Task ASignedInUserWhoIsNotAnAdminIsSentToAccessDenied(string path, string _)
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("user@example.com", Password);
        using var browser = await app.SignedInBrowserAsync("user@example.com", Password);

        var target = (await browser.GetAsync(path)).RedirectTarget();

        Assert.Equal($"/access-denied?ReturnUrl={Uri.EscapeDataString(path)}", target);
        Assert.Contains("You don't have access to that page", Html.Text(await browser.GetPageAsync(target)));
    }

    [Theory]
    [MemberData(nameof(AdminPages))]
    public async Task AnAdminSeesTheAdminPage(string path, string heading)
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("admin@example.com", Password, admin: true);
        using var browser = await app.SignedInBrowserAsync("admin@example.com", Password);

        var page = await browser.GetPageAsync(path);

        Assert.Matches($"<h1[^>]*>{heading}</h1>", page);
        Assert.Contains($"<title>{heading.Split(' ')[0]}", page);
        Assert.Contains("data-testid=\"nav-admin\"", page);
        Assert.Contains("aria-label=\"Admin sections\"", page);
    }

    [Fact]
    public async Task ADemotedAdminLosesTheAdminPageAtTheNextSecurityCheck()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("admin@example.com", Password, admin: true);
        using var browser = await app.SignedInBrowserAsync("admin@example.com", Password);

        Assert.Equal(0, (await app.RunCliAsync("set-role", "--email", "admin@example.com", "--role", "User")).ExitCode);
        // The cookie's security stamp (which a role change renews) is re-checked after this interval.
        app.Time.Advance(AccountExtensions.SecurityCheckInterval + TimeSpan.FromSeconds(1));

        Assert.StartsWith("/access-denied", (await browser.GetAsync("/admin")).RedirectTarget());
    }
}
