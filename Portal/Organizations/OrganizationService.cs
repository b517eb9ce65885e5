using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Data;

namespace Portal.Organizations;

/// <summary>
/// Organizations and what their members may do with them. Every method takes the acting user's id
/// and checks their membership and role in the store, in the statement that acts where it can, so a
/// user who is not a member of an organization can neither see nor change anything of it (ADR 34).
/// Every change is appended to the audit log in its own transaction.
/// </summary>
public sealed class OrganizationService(IDbContextFactory<PortalDbContext> dbFactory, ApiKeyService keys, CreditsLedger ledger, AuditLog audit, TimeProvider time)
{
    public const int MaxNameLength = 100;

    public static string TargetOf(string organizationId) => $"organization:{organizationId}";

    /// <summary>Makes an organization with <paramref name="actor"/> as its owner; null with a reason when the name will not do.</summary>
    public async Task<(Organization? Organization, string? Problem)> CreateAsync(AuditActor actor, string name, CancellationToken cancellationToken = default)
    {
        var userId = actor.UserId ?? throw new ArgumentException("An organization is made by a signed-in user.", nameof(actor));
        if (Problem(ref name) is { } problem)
        {
            return (null, problem);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var organization = new Organization { Id = Guid.NewGuid().ToString(), Name = name, CreatedAt = now };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Organizations.Add(organization);
        db.OrganizationMembers.Add(new OrganizationMember { OrganizationId = organization.Id, UserId = userId, Role = OrganizationRole.Owner, JoinedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationCreate, TargetOf(organization.Id), new { name }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (organization, null);
    }

    /// <summary>The user's role in the organization; null when they are not a member (or there is no such organization).</summary>
    public async Task<OrganizationRole?> RoleOfAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId && m.UserId == userId)
            .Select(m => (OrganizationRole?)m.Role).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>The organization as <paramref name="userId"/> belongs to it (name and role); null when they are not a member, or there is no such organization.</summary>
    public async Task<Membership?> MembershipAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId && m.UserId == userId)
            .Join(db.Organizations, m => m.OrganizationId, o => o.Id, (m, o) => new Membership(o.Id, o.Name, m.Role))
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>The organizations the user belongs to, by name.</summary>
    public async Task<IReadOnlyList<Membership>> MembershipsAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.OrganizationMembers.Where(m => m.UserId == userId)
            .Join(db.Organizations, m => m.OrganizationId, o => o.Id, (m, o) => new { o.Id, o.Name, m.Role })
            .OrderBy(m => m.Name).ThenBy(m => m.Id)
            .Select(m => new Membership(m.Id, m.Name, m.Role))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The organization's balance, for a member; null for anyone else.</summary>
    public async Task<BalanceSummary?> BalanceAsync(string userId, string organizationId, CancellationToken cancellationToken = default) =>
        await RoleOfAsync(userId, organizationId, cancellationToken) is null ? null : await ledger.SummaryAsync(organizationId, cancellationToken);

    /// <summary>
    /// Makes a key that spends the organization's credit, owned by the member who makes it (any member
    /// may: members use the organization). Null when <paramref name="actor"/> is not a member.
    /// </summary>
    public async Task<(ApiKey Key, string Plaintext)?> CreateKeyAsync(AuditActor actor, string organizationId, NewApiKey request, CancellationToken cancellationToken = default)
    {
        var userId = actor.UserId ?? throw new ArgumentException("A key is made by a signed-in member.", nameof(actor));
        if (await RoleOfAsync(userId, organizationId, cancellationToken) is null)
        {
            return null;
        }

        var created = await keys.CreateAsync(userId, request, cancellationToken, organizationId);
        await AuditAsync(actor, AuditActions.OrganizationKeyCreate, organizationId, new { key = created.Key.Id, name = created.Key.Name }, cancellationToken);
        return created;
    }

    /// <summary>
    /// The organization's keys the user may manage: every key for its admins and owners, their own for
    /// members; null when the user is not a member. Newest first.
    /// </summary>
    public async Task<IReadOnlyList<OrganizationKeyRow>?> KeysAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        if (await RoleOfAsync(userId, organizationId, cancellationToken) is not { } role)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = db.ApiKeys.AsNoTracking().Where(k => k.OrganizationId == organizationId);
        if (role < OrganizationRole.Admin)
        {
            rows = rows.Where(k => k.UserId == userId);
        }

        return await rows.OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id)
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new OrganizationKeyRow(k, u.Email ?? u.Id))
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Revokes one of the organization's live keys: any of them for an admin or owner, their own for a
    /// member. The role is checked in the same statement that revokes, so a member removed a moment ago
    /// cannot. False when there is no such key the user may revoke.
    /// </summary>
    public async Task<bool> RevokeKeyAsync(AuditActor actor, string organizationId, string keyId, CancellationToken cancellationToken = default)
    {
        var userId = actor.UserId ?? throw new ArgumentException("A key is revoked by a signed-in member.", nameof(actor));
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var revoked = await db.ApiKeys
            .Where(k => k.Id == keyId && k.OrganizationId == organizationId && k.RevokedAt == null
                && db.OrganizationMembers.Any(m => m.OrganizationId == organizationId && m.UserId == userId
                    && (m.Role != OrganizationRole.Member || k.UserId == userId)))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken) == 1;
        if (!revoked)
        {
            return false;
        }

        await audit.AppendAsync(db, actor, AuditActions.OrganizationKeyRevoke, TargetOf(organizationId), new { key = keyId }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The first instant of the current UTC month: the period the dashboard's spend per member covers.</summary>
    public DateTime MonthStart()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
    }

    /// <summary>
    /// What each member's organization keys spent this UTC month, biggest first: every member (those
    /// who spent nothing too, and former members who spent) for admins and owners, their own line for
    /// a member; null when <paramref name="userId"/> is not a member.
    /// </summary>
    public async Task<IReadOnlyList<MemberSpend>?> MemberSpendAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        if (await RoleOfAsync(userId, organizationId, cancellationToken) is not { } role)
        {
            return null;
        }

        var from = MonthStart();
        var all = role >= OrganizationRole.Admin;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var records = db.UsageRecords.Where(r => r.UserId == organizationId && r.CreatedAt >= from && r.MemberId != null);
        if (!all)
        {
            records = records.Where(r => r.MemberId == userId);
        }

        var spent = await records.GroupBy(r => r.MemberId!)
            .Select(g => new { MemberId = g.Key, Requests = g.Sum(r => r.Requests), Spend = g.Sum(r => r.CostMicros) })
            .ToDictionaryAsync(x => x.MemberId, cancellationToken);
        var members = all
            ? await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId).Select(m => m.UserId).ToListAsync(cancellationToken)
            : [userId];
        var ids = members.Union(spent.Keys).ToList();
        var emails = await db.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        return ids.Select(id => spent.TryGetValue(id, out var s)
                ? new MemberSpend(id, emails.GetValueOrDefault(id, "(deleted user)"), s.Requests, s.Spend)
                : new MemberSpend(id, emails.GetValueOrDefault(id, "(deleted user)"), 0, 0))
            .OrderByDescending(m => m.SpendMicros).ThenBy(m => m.Email, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    /// <summary>Renames the organization: its admins and owners may. Audited with the old and new names.</summary>
    public async Task<MemberChange> RenameAsync(AuditActor actor, string organizationId, string name, CancellationToken cancellationToken = default)
    {
        if (Problem(ref name) is { } problem)
        {
            return MemberChange.Refused(problem);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var was = await db.Organizations.Where(o => o.Id == organizationId
                && db.OrganizationMembers.Any(m => m.OrganizationId == o.Id && m.UserId == actor.UserId && m.Role != OrganizationRole.Member))
            .Select(o => o.Name).FirstOrDefaultAsync(cancellationToken);
        if (was is null)
        {
            return MemberChange.NotAllowed;
        }

        var newName = name;
        await db.Organizations.Where(o => o.Id == organizationId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Name, newName), cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationRename, TargetOf(organizationId), new { from = was, to = name }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success($"Renamed to {name}.");
    }

    /// <summary>
    /// Deletes the organization for its owner, who types its name to confirm: its keys are revoked, its
    /// members removed and its pending invitations withdrawn, in one transaction. Refused while it holds
    /// credit (available or on hold), which would otherwise be stranded. The organization's row, ledger
    /// and usage records stay for the admins' books (ADR 37): with no members, no user can reach it.
    /// </summary>
    public async Task<MemberChange> DeleteAsync(AuditActor actor, string organizationId, string typedName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locks the row first, like role changes, so a member being added or re-roled waits for this.
        await db.Organizations.Where(o => o.Id == organizationId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Name, o => o.Name), cancellationToken);
        var name = await db.Organizations.Where(o => o.Id == organizationId
                && db.OrganizationMembers.Any(m => m.OrganizationId == o.Id && m.UserId == actor.UserId && m.Role == OrganizationRole.Owner))
            .Select(o => o.Name).FirstOrDefaultAsync(cancellationToken);
        if (name is null)
        {
            return MemberChange.NotAllowed;
        }

        if (!string.Equals((typedName ?? "").Trim(), name, StringComparison.Ordinal))
        {
            return MemberChange.Refused($"Type the organization's name, {name}, exactly to confirm. Nothing was changed.");
        }

        var balance = await db.CreditBalances.Where(b => b.UserId == organizationId).Select(b => b.BalanceMicros).FirstOrDefaultAsync(cancellationToken);
        var onHold = -await db.Ledger.Where(e => e.UserId == organizationId && (e.Kind == LedgerKind.Hold || e.Kind == LedgerKind.Release))
            .SumAsync(e => e.AmountMicros, cancellationToken);
        if (balance > 0 || onHold > 0)
        {
            return MemberChange.Refused(
                $"{name} still has {Money.Format(balance + onHold)} of credit. Spend it, or ask an administrator to deduct it, before deleting. Nothing was changed.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var keys = await db.ApiKeys.Where(k => k.OrganizationId == organizationId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        var invitations = await db.OrganizationInvitations.Where(i => i.OrganizationId == organizationId && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, now), cancellationToken);
        var members = await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId).ExecuteDeleteAsync(cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationDelete, TargetOf(organizationId),
            new { name, revokedKeys = keys, removedMembers = members, withdrawnInvitations = invitations }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success($"Deleted {name}: {keys} keys revoked, {members} members removed.");
    }

    /// <summary>Trims <paramref name="name"/>; the reason it will not do as an organization's name, or null.</summary>
    private static string? Problem(ref string name)
    {
        name = (name ?? "").Trim();
        return name.Length == 0 ? "Give the organization a name."
            : name.Length > MaxNameLength || name.Any(char.IsControl) ? $"A name is at most {MaxNameLength} characters, without control characters."
            : null;
    }

    private async Task AuditAsync(AuditActor actor, string action, string organizationId, object details, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.AppendAsync(db, actor, action, TargetOf(organizationId), details, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }
}
