using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Admin;
using Portal.Audit;
using Portal.Data;
using Portal.Tests.Components;
using Radzen;

namespace Portal.Tests.Admin;

/// <summary>
/// bUnit tests of the admin components against a real (SQLite) Portal: its services, its store,
/// and the real <see cref="AdminGuard"/> reading bUnit's authentication state, as a circuit would.
/// </summary>
public abstract class AdminComponentTestBase : ComponentTestBase
{
    protected AdminComponentTestBase()
    {
        // Radzen's grid and chart call into their JavaScript; none of it matters to what is shown.
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddRadzenComponents();
        Services.AddLogging();
        Services.AddSingleton(App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>());
        Services.AddSingleton(App.Service<AuditLog>());
        Services.AddSingleton(App.Service<UserAdmin>());
        Services.AddSingleton(App.Service<CatalogAdmin>());
        Services.AddSingleton(App.Service<UpstreamAdmin>());
        Services.AddSingleton(App.Service<Microsoft.Extensions.Options.IOptions<Portal.Gateway.GatewayOptions>>());
        Services.AddSingleton(App.Service<ServiceAdmin>());
        Services.AddSingleton(App.Service<UpstreamConnectionTest>());
        Services.AddScoped<AdminGuard>();
    }

    /// <summary>How long to wait for a render that follows a store query: a bound on waiting, not a delay.</summary>
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    protected PortalApplication App { get; } = new();

    protected override async Task DisposeFixturesAsync() => await App.DisposeAsync();

    /// <summary>Creates an admin in the store and makes the rendered components see them as signed in.</summary>
    protected async Task<PortalUser> SignInAsAdminAsync(string email = "root@example.test")
    {
        var admin = await App.CreateUserAsync(email, AdminTestHelpers.Password, admin: true);
        SignIn(admin, Roles.Admin);
        return admin;
    }

    /// <summary>
    /// A user who is not an admin, yet whose circuit reached an admin component (and even claims the
    /// role): what a forged event would look like to the server.
    /// </summary>
    protected async Task<PortalUser> SignInAsNonAdminAsync(string email = "mallory@example.test")
    {
        var user = await App.CreateUserAsync(email, AdminTestHelpers.Password);
        SignIn(user, Roles.Admin);
        return user;
    }

    private void SignIn(PortalUser user, string role)
    {
        SignInAs(user.Email!, role);
        Authorization.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
    }
}
