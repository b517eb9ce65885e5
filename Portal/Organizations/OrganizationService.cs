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
        name = (name ?? "").Trim();
        if (name.Length == 0)
        {
            return (null, "Give the organization a name.");
        }

        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return (null, $"A name is at most {MaxNameLength} characters, without control characters.");
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

    private async Task AuditAsync(AuditActor actor, string action, string organizationId, object details, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.AppendAsync(db, actor, action, TargetOf(organizationId), details, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }
}
