using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Portal.Account;
using Portal.Data;

namespace Portal.Tests.Store;

/// <summary>
/// What every store provider must do, run once per provider by the derived classes. Each test gets
/// a fresh, empty store, which Portal migrates at start-up.
/// </summary>
public abstract class StoreTests : StoreAppTest
{
    private const string Password = "correct horse battery";

    /// <summary>The provider's own context type, which carries its migrations set.</summary>
    protected abstract Type ContextType { get; }

    [Fact]
    public virtual async Task StartUpAppliesEveryMigrationOfTheConfiguredProvider()
    {
        await using var db = await CreateDbContextAsync();

        Assert.IsType(ContextType, db);
        var migrations = db.Database.GetMigrations().ToList();
        Assert.NotEmpty(migrations);
        Assert.Equal(migrations, await db.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());

        // Start-up migrates every time: on an up-to-date store that must change nothing.
        await App.Services.MigrateStoreAsync();
        Assert.Equal(migrations, await db.Database.GetAppliedMigrationsAsync());
    }

    [Fact]
    public virtual async Task TheProvidersMigrationsMatchTheModel()
    {
        await using var db = await CreateDbContextAsync();

        // What `dotnet ef migrations add` would compare: a non-empty difference means a model
        // change without a migration for this provider.
        var snapshot = db.GetService<IMigrationsAssembly>().ModelSnapshot?.Model;
        Assert.NotNull(snapshot);
        if (snapshot is IMutableModel mutable)
        {
            snapshot = mutable.FinalizeModel();
        }

        snapshot = db.GetService<IModelRuntimeInitializer>().Initialize(snapshot);
        var differences = db.GetService<IMigrationsModelDiffer>()
            .GetDifferences(snapshot.GetRelationalModel(), db.GetService<IDesignTimeModel>().Model.GetRelationalModel());
        Assert.True(differences.Count == 0, "model changes without a migration: " + string.Join(", ", differences.Select(d => d.GetType().Name)));
    }

    [Fact]
    public virtual async Task TheAdminRoleExistsAfterMigration()
    {
        await using var scope = App.Services.CreateAsyncScope();

        var role = await scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>().FindByNameAsync(Roles.Admin);

        Assert.NotNull(role);
        Assert.Equal(Roles.Admin, role.Name);
    }

    [Fact]
    public virtual async Task AUserRoundTripsThroughUserManagerWithItsRoleAndLockout()
    {
        var created = App.Time.GetUtcNow().UtcDateTime;
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var user = new PortalUser { UserName = "ada@example.com", Email = "ada@example.com", CreatedAt = created };
            AssertSucceeded(await users.CreateAsync(user, Password));
            AssertSucceeded(await users.AddToRoleAsync(user, Roles.Admin));
            for (var i = 0; i < 5; i++)
            {
                AssertSucceeded(await users.AccessFailedAsync(user));
            }
        }

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var user = await users.FindByEmailAsync("ADA@EXAMPLE.COM");
            Assert.NotNull(user);
            Assert.Equal("ada@example.com", user.Email);
            Assert.Equal(created, user.CreatedAt);
            Assert.True(await users.CheckPasswordAsync(user, Password));
            Assert.Equal([Roles.Admin], await users.GetRolesAsync(user));
            Assert.Equal([user.Id], (await users.GetUsersInRoleAsync(Roles.Admin)).Select(u => u.Id));
            Assert.True(await users.IsLockedOutAsync(user));

            AssertSucceeded(await users.RemoveFromRoleAsync(user, Roles.Admin));
        }

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var user = await users.FindByEmailAsync("ada@example.com");
            Assert.NotNull(user);
            Assert.Empty(await users.GetRolesAsync(user));
        }
    }

    [Fact]
    public virtual async Task SignUpAndSignInWorkEndToEnd()
    {
        using var signingUp = App.CreateBrowser();
        Assert.Equal("/", (await signingUp.SignUpAsync("ada@example.com", Password)).RedirectTarget());

        using var later = await App.SignedInBrowserAsync("ada@example.com", Password);

        Assert.Contains("Email ada@example.com", Html.Text(await later.GetPageAsync("/settings/profile")));
        var list = await App.RunCliAsync("list-users");
        Assert.Contains("ada@example.com", list.Stdout);
        Assert.Contains("1 account(s).", list.Stdout);
    }

    protected Task<PortalDbContext> CreateDbContextAsync() =>
        App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    private static void AssertSucceeded(IdentityResult result) =>
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
}
