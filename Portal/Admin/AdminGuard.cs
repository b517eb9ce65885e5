using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.Audit;
using Portal.Data;

namespace Portal.Admin;

public sealed class AdminAccessDeniedException() : Exception("Only administrators can do this.");

/// <summary>
/// Re-checks, for every admin action, that the circuit's user is an admin — in the store, not in
/// the claims the circuit started with. Page-level [Authorize] only guards the first render; a
/// circuit lives on and its events can be sent by anyone holding it, and a demotion must count at once.
/// With <c>Accounts:RequireTwoFactorForAdmins</c> on, the admin must also have two-factor sign-in on.
/// </summary>
public sealed class AdminGuard(CurrentUser currentUser, IDbContextFactory<PortalDbContext> dbFactory, IOptions<AccountOptions> accounts)
{
    public async Task<AdminCaller> RequireAdminAsync(CancellationToken cancellationToken = default)
    {
        if (await currentUser.GetIdAsync() is not { } userId)
        {
            throw new AdminAccessDeniedException();
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var adminRole = Roles.Admin.ToUpperInvariant();
        var admin = await db.Users
            .Where(u => u.Id == userId && db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == adminRole)))
            .Select(u => new { u.Id, u.Email, u.TwoFactorEnabled })
            .FirstOrDefaultAsync(cancellationToken);
        // An admin whose second factor was turned off (or is still missing) is refused too (ADR 27).
        return admin is null || (accounts.Value.RequireTwoFactorForAdmins && !admin.TwoFactorEnabled)
            ? throw new AdminAccessDeniedException()
            : new AdminCaller(new AuditActor(admin.Id, admin.Email ?? admin.Id));
    }
}
