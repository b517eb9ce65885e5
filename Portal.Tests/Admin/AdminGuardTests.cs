using Portal.Account;
using Portal.Admin;

namespace Portal.Tests.Admin;

/// <summary>
/// The server-side check every admin action goes through. A circuit's events can be sent by whoever
/// holds the circuit, so these call the check directly, as a forged event would reach it.
/// </summary>
public sealed class AdminGuardTests : IDisposable
{
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AnAdminInTheStorePassesAndIsNamedAsTheActor()
    {
        var admin = await _app.CreateUserAsync("root@example.test", AdminTestHelpers.Password, admin: true);

        var caller = await _app.GuardFor(admin.Id, Roles.Admin).RequireAdminAsync();

        Assert.Equal(admin.Id, caller.Actor.UserId);
        Assert.Equal("root@example.test", caller.Actor.Name);
    }

    [Fact]
    public async Task AnAnonymousCallerIsRefused()
    {
        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor(null).RequireAdminAsync());
    }

    [Fact]
    public async Task ASignedInUserWhoIsNotAnAdminIsRefused()
    {
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);

        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor(user.Id).RequireAdminAsync());
    }

    [Fact]
    public async Task ClaimingTheAdminRoleIsNotEnoughTheStoreDecides()
    {
        // A circuit whose claims still say Admin after a demotion, or claims that were never true.
        var user = await _app.CreateUserAsync("ada@example.test", AdminTestHelpers.Password);
        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor(user.Id, Roles.Admin).RequireAdminAsync());

        var admin = await _app.CreateUserAsync("root@example.test", AdminTestHelpers.Password, admin: true);
        Assert.Equal(0, (await _app.RunCliAsync("set-role", "--email", "root@example.test", "--role", "User")).ExitCode);
        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor(admin.Id, Roles.Admin).RequireAdminAsync());
    }

    [Fact]
    public async Task AnUnknownUserIdIsRefused()
    {
        await Assert.ThrowsAsync<AdminAccessDeniedException>(() => _app.GuardFor("no-such-user", Roles.Admin).RequireAdminAsync());
    }
}
