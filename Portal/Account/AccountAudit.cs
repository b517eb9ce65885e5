using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Data;
using Portal.Security;

namespace Portal.Account;

/// <summary>
/// Writes an account's sign-ins, failed sign-ins and changes of email or password to the audit log
/// (ADR 4), each with the client address, and reads them back as the account's security log. An
/// account's entries have the target <c>account:{id}</c>; a failed sign-in for an address no account
/// has is recorded against <c>email:{address}</c>.
/// </summary>
public sealed class AccountAudit(IDbContextFactory<PortalDbContext> dbFactory, AuditLog log)
{
    public const string Anonymous = "anonymous";

    public static string TargetOf(string userId) => $"account:{userId}";

    /// <summary>Records what <paramref name="user"/> did (or, with <paramref name="byOwner"/> false, what someone tried on it).</summary>
    public Task RecordAsync(string action, PortalUser user, HttpContext http, bool byOwner = true, object? details = null) =>
        AppendAsync(byOwner ? new AuditActor(user.Id, user.Email ?? user.Id) : new AuditActor(null, Anonymous), action, TargetOf(user.Id), http, details);

    /// <summary>A failed sign-in for an address no account has.</summary>
    public Task RecordUnknownAsync(string action, string address, HttpContext http) =>
        AppendAsync(new AuditActor(null, Anonymous), action, "email:" + address.Trim()[..Math.Min(address.Trim().Length, 250)], http, null);

    /// <summary>The account's latest entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> SecurityLogAsync(string userId, int take = 10, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var target = TargetOf(userId);
        return await db.AuditEntries.AsNoTracking().Where(e => e.Target == target).OrderByDescending(e => e.Id).Take(take).ToListAsync(cancellationToken);
    }

    private async Task AppendAsync(AuditActor actor, string action, string target, HttpContext http, object? details)
    {
        await using var db = await dbFactory.CreateDbContextAsync(http.RequestAborted);
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var ip = ClientAddress.Of(http);
        await log.AppendAsync(db, actor, action, target, details is null ? new { ip } : new { ip, details }, CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }
}
