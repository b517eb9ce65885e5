using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Account;
using Portal.Audit;
using Portal.Billing;
using Portal.Data;
using Portal.Organizations;

namespace Portal.Admin;

public sealed record UserRow(string Id, string Email, bool IsAdmin, long BalanceMicros, DateTime CreatedAt);

public sealed record UserPage(IReadOnlyList<UserRow> Rows, int Total);

/// <summary>The orders the users list offers: by join date (the default), or by email, whose normalized form is indexed.</summary>
public enum UserSort
{
    Joined,
    Email,
}

/// <summary>A credit adjustment as typed in the form: a positive USD amount and which way it goes.</summary>
public sealed class CreditAdjustment
{
    public string Amount { get; set; } = "";
    public bool Deduct { get; set; }
    public string Reason { get; set; } = "";
}

/// <summary>Accounts, their balances, and credit grants and deductions made by admins.</summary>
public sealed class UserAdmin(IDbContextFactory<PortalDbContext> dbFactory, CreditsLedger ledger, AuditLog audit, IServiceScopeFactory scopes)
{
    public const int MaxReasonLength = 500;

    /// <summary>Accounts whose email contains <paramref name="search"/>, oldest first unless <paramref name="sort"/> says otherwise, one page of at most 100.</summary>
    public async Task<UserPage> SearchAsync(AdminCaller caller, string? search, int skip, int take, UserSort sort = UserSort.Joined, bool descending = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var users = db.Users.AsQueryable();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var normalized = search.Trim().ToUpperInvariant();
            users = users.Where(u => u.NormalizedEmail!.Contains(normalized));
        }

        var adminRole = Roles.Admin.ToUpperInvariant();
        var total = await users.CountAsync(cancellationToken);
        var ordered = (sort, descending) switch
        {
            (UserSort.Email, false) => users.OrderBy(u => u.NormalizedEmail).ThenBy(u => u.Id),
            (UserSort.Email, true) => users.OrderByDescending(u => u.NormalizedEmail).ThenByDescending(u => u.Id),
            (_, true) => users.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id),
            _ => users.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id),
        };
        var rows = await ordered
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 100))
            .Select(u => new UserRow(
                u.Id,
                u.Email ?? u.UserName ?? u.Id,
                db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.NormalizedName == adminRole)),
                db.CreditBalances.Where(b => b.UserId == u.Id).Select(b => b.BalanceMicros).FirstOrDefault(),
                u.CreatedAt))
            .ToListAsync(cancellationToken);
        return new UserPage(rows, total);
    }

    /// <summary>
    /// Grants or deducts credits of a user or an organization through the ledger, with the admin as actor and an audit entry in
    /// the same transaction. A deduction larger than the balance is refused and changes nothing.
    /// </summary>
    public async Task<EditResult> AdjustCreditsAsync(AdminCaller caller, string userId, CreditAdjustment change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new Dictionary<string, string>();
        if (!UsdInput.TryParse(change.Amount, out var micros) || micros <= 0)
        {
            errors[nameof(CreditAdjustment.Amount)] = $"Enter an amount in USD greater than 0, such as 10 or 2.50 (at most 6 decimals, at most {UsdInput.MaxUsd:#,0}).";
        }

        var reason = change.Reason.Trim();
        if (reason.Length == 0)
        {
            errors[nameof(CreditAdjustment.Reason)] = "Give a reason; it is kept in the ledger and the audit log.";
        }
        else if (reason.Length > MaxReasonLength)
        {
            errors[nameof(CreditAdjustment.Reason)] = $"The reason is {reason.Length} characters long; at most {MaxReasonLength} are kept.";
        }

        if (errors.Count > 0)
        {
            return EditResult.Invalid(errors);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // The account is a user or an organization (ADR 34): both are credited through the same ledger.
            var (email, target) = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken) is { } address
                ? (address, $"user:{address}")
                : await db.Organizations.Where(o => o.Id == userId).Select(o => o.Name).FirstOrDefaultAsync(cancellationToken) is { } name
                    ? (name, OrganizationService.TargetOf(userId))
                    : (null, null);
            if (email is null || target is null)
            {
                return EditResult.Refused("That account no longer exists.");
            }

            var signed = change.Deduct ? -micros : micros;
            var action = change.Deduct ? AuditActions.CreditsDeduct : AuditActions.CreditsGrant;
            try
            {
                var balance = await ledger.GrantAsync(userId, signed, reason, caller.Actor.UserId,
                    (tx, ct) => audit.AppendAsync(tx, caller.Actor, action, target,
                        new { userId, amountUsd = UsdInput.Format(micros), reason }, ct),
                    cancellationToken);
                return EditResult.Success(change.Deduct
                    ? $"Deducted {Money.Format(micros)} from {email}. Their balance is now {Money.Format(balance)}."
                    : $"Granted {Money.Format(micros)} to {email}. Their balance is now {Money.Format(balance)}.");
            }
            catch (InsufficientCreditsException)
            {
                var balance = await db.CreditBalances.Where(b => b.UserId == userId).Select(b => b.BalanceMicros).FirstOrDefaultAsync(cancellationToken);
                return EditResult.Refused($"{email} has {Money.Format(balance)}, less than the {Money.Format(micros)} you asked to deduct. Nothing was deducted.");
            }
        }
    }

    /// <summary>
    /// Makes an account an admin, or a user again, through the user manager (as the command line's
    /// set-role does) with an audit entry in the same transaction. An admin cannot demote themselves
    /// here, so the console never loses the last admin it is being used by.
    /// </summary>
    public async Task<EditResult> SetRoleAsync(AdminCaller caller, string userId, bool makeAdmin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!makeAdmin && userId == caller.Actor.UserId)
        {
            return EditResult.Refused("You cannot remove your own admin role. Another admin can, or the command line (set-role). Nothing was changed.");
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        if (await users.FindByIdAsync(userId) is not { } user)
        {
            return EditResult.Refused("That account no longer exists.");
        }

        var email = user.Email ?? user.Id;
        if (await users.IsInRoleAsync(user, Roles.Admin) != makeAdmin)
        {
            // The user manager saves through the scope's context, so the role change and its audit entry share one transaction.
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var result = makeAdmin ? await users.AddToRoleAsync(user, Roles.Admin) : await users.RemoveFromRoleAsync(user, Roles.Admin);
            if (!result.Succeeded)
            {
                return EditResult.Refused(string.Join(" ", result.Errors.Select(e => e.Description)));
            }

            await audit.AppendAsync(db, caller.Actor, AuditActions.RoleSet, $"user:{email}",
                new { userId = user.Id, role = makeAdmin ? Roles.Admin : "User" }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        return EditResult.Success(makeAdmin ? $"{email} is now an admin." : $"{email} is no longer an admin.");
    }
}
