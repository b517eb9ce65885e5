using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Admin;
using Portal.Audit;
using Portal.Data;
using MudBlazor;
using Portal.Tests.Components;

namespace Portal.Tests.Admin;

/// <summary>
/// bUnit tests of the admin components against a real (SQLite) Portal: its services, its store,
/// and the real <see cref="AdminGuard"/> reading bUnit's authentication state, as a circuit would.
/// </summary>
public abstract class AdminComponentTestBase : ComponentTestBase
{
    protected AdminComponentTestBase()
    {
        Services.AddLogging();
        Services.AddSingleton(App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>());
        Services.AddSingleton(App.Service<AuditLog>());
        Services.AddSingleton(App.Service<UserAdmin>());
        Services.AddSingleton(App.Service<CatalogAdmin>());
        Services.AddSingleton(App.Service<UpstreamAdmin>());
        Services.AddSingleton(App.Service<Microsoft.Extensions.Options.IOptions<Portal.Gateway.GatewayOptions>>());
        Services.AddSingleton(App.Service<ServiceAdmin>());
        Services.AddSingleton(App.Service<Portal.Codes.RedemptionCodes>());
        Services.AddSingleton(App.Service<UpstreamConnectionTest>());
        Services.AddSingleton(App.Service<Portal.Email.EmailOutbox>());
        Services.AddSingleton(App.Service<Microsoft.Extensions.Options.IOptions<Portal.Email.EmailOptions>>());
        Services.AddSingleton(App.Service<Portal.Email.EmlFolderTransport>());
        Services.AddSingleton(App.Service<Microsoft.Extensions.Options.IOptions<AccountOptions>>()); // the guard reads Accounts:RequireTwoFactorForAdmins
        Services.AddScoped<AdminGuard>();
        Services.AddSingleton(App.Service<OrganizationAdmin>());
        // The invitation's accept page, tested beside the admin's Organizations page (OrganizationPagesTests).
        Services.AddSingleton(App.Service<Portal.Organizations.OrganizationMembers>());
        AddServices();
        // Where MudBlazor shows dialogs, snackbars and popovers, as the interactive layout does.
        Dialogs = Render<MudDialogProvider>();
        Snackbars = Render<MudSnackbarProvider>();
        Popovers = Render<MudPopoverProvider>();
    }

    /// <summary>Registers what a test class's components need besides the admin's services, before anything renders.</summary>
    protected virtual void AddServices()
    {
    }

    /// <summary>Open popovers: a select's options, for one.</summary>
    protected IRenderedComponent<MudPopoverProvider> Popovers { get; }

    /// <summary>The open dialogs: what a confirmation asks, and its buttons.</summary>
    protected IRenderedComponent<MudDialogProvider> Dialogs { get; }

    /// <summary>The snackbars shown so far.</summary>
    protected IRenderedComponent<MudSnackbarProvider> Snackbars { get; }

    /// <summary>Waits for the open confirmation, checks it asks about <paramref name="question"/>, and presses <paramref name="button"/>.</summary>
    protected void Answer(string question, string button)
    {
        Dialogs.WaitForAssertion(() => Assert.Contains(question, Dialogs.Find(".mud-dialog").TextContent), Wait);
        Dialogs.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == button).Click();
        Dialogs.WaitForAssertion(() => Assert.Empty(Dialogs.FindAll(".mud-dialog")), Wait);
    }

    /// <summary>Waits until a snackbar says exactly <paramref name="message"/>.</summary>
    protected void ExpectSnackbar(string message) =>
        Snackbars.WaitForAssertion(() => Assert.Contains(message, Snackbars.FindAll(".mud-snackbar-content-message").Select(m => m.TextContent.Trim())), Wait);

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
