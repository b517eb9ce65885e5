using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Data;
using Portal.Email;

namespace Portal.Organizations;

/// <summary>
/// An organization's members: invitations by email (the accept link's token stored hashed, accepted
/// only by a signed-in user whose verified address it was sent to), roles, removal and leaving — which
/// revoke that member's organization keys in the same transaction. Admins manage members and admins;
/// only owners manage owners, and an organization always keeps one (ADR 34). Every change is audited.
/// </summary>
public sealed class OrganizationMembers(IDbContextFactory<PortalDbContext> dbFactory, EmailOutbox outbox, AuditLog audit, TimeProvider time,
    IOptions<EmailOptions> email)
{
    public const string InviteKind = "organization-invite";
    public const string AcceptPath = "/orgs/accept";
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// Invites <paramref name="address"/> with <paramref name="role"/> and mails the accept link through
    /// the outbox. Admins may invite members and admins, owners also owners.
    /// </summary>
    /// <param name="site">The site's address for the link when <c>Email:PublicUrl</c> is not set.</param>
    public async Task<MemberChange> InviteAsync(AuditActor actor, string organizationId, string address, OrganizationRole role, string site,
        CancellationToken cancellationToken = default)
    {
        address = (address ?? "").Trim();
        if (address.Length is 0 or > 256 || !System.Net.Mail.MailAddress.TryCreate(address, out var parsed) || parsed.Address != address)
        {
            return MemberChange.Refused("Enter one email address, such as ada@example.com.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await RoleAsync(db, organizationId, actor, cancellationToken) is not { } mine || !MayGrant(mine, role))
        {
            return MemberChange.NotAllowed;
        }

        var name = await db.Organizations.Where(o => o.Id == organizationId).Select(o => o.Name).SingleAsync(cancellationToken);
        var normalized = address.ToUpperInvariant();
        if (await db.OrganizationMembers.AnyAsync(m => m.OrganizationId == organizationId
                && db.Users.Any(u => u.Id == m.UserId && u.NormalizedEmail == normalized), cancellationToken))
        {
            return MemberChange.Refused($"{address} is already a member of {name}.");
        }

        var token = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow().UtcDateTime;
        db.OrganizationInvitations.Add(new OrganizationInvitation
        {
            OrganizationId = organizationId,
            Email = address,
            Role = role,
            TokenHash = ApiKeyService.HashOf(token),
            InvitedBy = actor.UserId!,
            CreatedAt = now,
            ExpiresAt = now + InvitationLifetime,
        });
        var baseUrl = string.IsNullOrWhiteSpace(email.Value.PublicUrl) ? site : email.Value.PublicUrl;
        var link = QueryHelpers.AddQueryString(baseUrl.TrimEnd('/') + AcceptPath, "token", token);
        outbox.Add(db, InviteKind, null, address, $"You are invited to {name} on Portal",
            $"""
            {actor.Name} invited you to join the organization "{name}" on Portal as {role.ToString().ToLowerInvariant()}.
            Its members share its credit through their organization keys.

            Sign in (or sign up) with this address, {address}, and follow this link to accept:

            {link}

            The link works until {(now + InvitationLifetime):yyyy-MM-dd HH:mm} UTC. If you do not know this organization, ignore this message.
            """);
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationInvite, OrganizationService.TargetOf(organizationId), new { email = address, role = Name(role) }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        outbox.Wake();
        return MemberChange.Success($"Invited {address} as {Name(role)}; the invitation works for {InvitationLifetime.TotalDays:0} days.");
    }

    /// <summary>
    /// Accepts an invitation for the signed-in user <paramref name="actor"/>, whose verified address
    /// must be the one it was sent to. Once only: the invitation is marked in one conditional update.
    /// </summary>
    public async Task<(InvitationOutcome Outcome, string? OrganizationId)> AcceptAsync(AuditActor actor, string? token, CancellationToken cancellationToken = default)
    {
        var userId = actor.UserId ?? throw new ArgumentException("An invitation is accepted by a signed-in user.", nameof(actor));
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100)
        {
            return (InvitationOutcome.NotValid, null);
        }

        var hash = ApiKeyService.HashOf(token.Trim());
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var invitation = await db.OrganizationInvitations.AsNoTracking().FirstOrDefaultAsync(i => i.TokenHash == hash, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        if (invitation is null)
        {
            return (InvitationOutcome.NotValid, null);
        }

        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.NormalizedEmail, u.EmailConfirmed }).SingleAsync(cancellationToken);
        var outcome = invitation.RevokedAt is not null ? InvitationOutcome.Revoked
            : invitation.AcceptedAt is not null ? InvitationOutcome.AlreadyUsed
            : invitation.ExpiresAt <= now ? InvitationOutcome.Expired
            : !user.EmailConfirmed || user.NormalizedEmail != invitation.Email.ToUpperInvariant() ? InvitationOutcome.OtherAddress
            : InvitationOutcome.Joined;
        if (outcome != InvitationOutcome.Joined)
        {
            return (outcome, null);
        }

        var taken = await db.OrganizationInvitations
            .Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, userId), cancellationToken);
        if (taken == 0)
        {
            return (InvitationOutcome.AlreadyUsed, null);
        }

        // Already a member (invited twice): the invitation is used up, the role stays as it is.
        if (!await db.OrganizationMembers.AnyAsync(m => m.OrganizationId == invitation.OrganizationId && m.UserId == userId, cancellationToken))
        {
            db.OrganizationMembers.Add(new OrganizationMember { OrganizationId = invitation.OrganizationId, UserId = userId, Role = invitation.Role, JoinedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }

        await audit.AppendAsync(db, actor, AuditActions.OrganizationJoin, OrganizationService.TargetOf(invitation.OrganizationId),
            new { invitation = invitation.Id, role = Name(invitation.Role) }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (InvitationOutcome.Joined, invitation.OrganizationId);
    }

    /// <summary>Changes a member's role. Admins may move members and admins between those roles; only owners touch owners; the last owner stays one.</summary>
    public async Task<MemberChange> SetRoleAsync(AuditActor actor, string organizationId, string memberId, OrganizationRole role, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockAsync(db, organizationId, cancellationToken);
        var mine = await RoleAsync(db, organizationId, actor, cancellationToken);
        var member = await db.OrganizationMembers.FirstOrDefaultAsync(m => m.OrganizationId == organizationId && m.UserId == memberId, cancellationToken);
        if (mine is not { } my || member is null || !MayGrant(my, member.Role) || !MayGrant(my, role))
        {
            return MemberChange.NotAllowed;
        }

        if (member.Role == OrganizationRole.Owner && role != OrganizationRole.Owner && await IsLastOwnerAsync(db, organizationId, cancellationToken))
        {
            return MemberChange.Refused("An organization keeps at least one owner: make someone else an owner first. Nothing was changed.");
        }

        var was = member.Role;
        member.Role = role;
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationRoleSet, OrganizationService.TargetOf(organizationId),
            new { member = memberId, from = Name(was), to = Name(role) }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success($"The member is now {Name(role)}.");
    }

    /// <summary>
    /// Removes a member, or — when <paramref name="memberId"/> is the actor — lets them leave; either way
    /// their organization keys are revoked in the same transaction. Admins remove members and admins,
    /// owners anyone; the last owner can neither leave nor be removed.
    /// </summary>
    public async Task<MemberChange> RemoveAsync(AuditActor actor, string organizationId, string memberId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockAsync(db, organizationId, cancellationToken);
        var mine = await RoleAsync(db, organizationId, actor, cancellationToken);
        var member = await db.OrganizationMembers.FirstOrDefaultAsync(m => m.OrganizationId == organizationId && m.UserId == memberId, cancellationToken);
        var leaving = memberId == actor.UserId;
        if (mine is not { } my || member is null || !(leaving || MayGrant(my, member.Role)))
        {
            return MemberChange.NotAllowed;
        }

        if (member.Role == OrganizationRole.Owner && await IsLastOwnerAsync(db, organizationId, cancellationToken))
        {
            return MemberChange.Refused("The last owner cannot leave or be removed: make someone else an owner first. Nothing was changed.");
        }

        db.OrganizationMembers.Remove(member);
        await db.SaveChangesAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var revoked = await db.ApiKeys.Where(k => k.OrganizationId == organizationId && k.UserId == memberId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        await audit.AppendAsync(db, actor, leaving ? AuditActions.OrganizationLeave : AuditActions.OrganizationRemove, OrganizationService.TargetOf(organizationId),
            new { member = memberId, revokedKeys = revoked }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success(leaving
            ? $"You left the organization; your {revoked} organization keys were revoked."
            : $"The member was removed; their {revoked} organization keys were revoked.");
    }

    /// <summary>The organization's members, owners first, then by address; null when <paramref name="userId"/> is not a member.</summary>
    public async Task<IReadOnlyList<MemberRow>?> ListAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.OrganizationMembers.AnyAsync(m => m.OrganizationId == organizationId && m.UserId == userId, cancellationToken))
        {
            return null;
        }

        var rows = await db.OrganizationMembers.AsNoTracking().Where(m => m.OrganizationId == organizationId)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { Member = m, Email = u.Email ?? u.Id })
            .ToListAsync(cancellationToken);
        return rows.Select(r => new MemberRow(r.Member.UserId, r.Email, r.Member.Role, r.Member.JoinedAt, r.Member.Budget, r.Member.BudgetPeriodStart, r.Member.BudgetSpentMicros))
            .OrderByDescending(r => r.Role).ThenBy(r => r.Email, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// The invitations still open (neither accepted, withdrawn nor expired), newest first, for the
    /// organization's admins and owners (who may withdraw them); empty for a member, null for anyone else.
    /// </summary>
    public async Task<IReadOnlyList<PendingInvitation>?> PendingAsync(string userId, string organizationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var role = await RoleAsync(db, organizationId, new AuditActor(userId, userId), cancellationToken);
        if (role is null || role < OrganizationRole.Admin)
        {
            return role is null ? null : [];
        }

        var now = time.GetUtcNow().UtcDateTime;
        return await db.OrganizationInvitations.AsNoTracking()
            .Where(i => i.OrganizationId == organizationId && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .OrderByDescending(i => i.Id)
            .Select(i => new PendingInvitation(i.Id, i.Email, i.Role, i.CreatedAt, i.ExpiresAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Withdraws an open invitation, so its link no longer works: admins may withdraw invitations to
    /// members and admins, owners any. One conditional update; audited.
    /// </summary>
    public async Task<MemberChange> RevokeInvitationAsync(AuditActor actor, string organizationId, long invitationId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await RoleAsync(db, organizationId, actor, cancellationToken) is not { } mine)
        {
            return MemberChange.NotAllowed;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var mayOwners = mine == OrganizationRole.Owner;
        var invitation = await db.OrganizationInvitations.AsNoTracking()
            .Where(i => i.Id == invitationId && i.OrganizationId == organizationId).Select(i => new { i.Email, i.Role }).FirstOrDefaultAsync(cancellationToken);
        if (invitation is null || !MayGrant(mine, invitation.Role))
        {
            return MemberChange.NotAllowed;
        }

        var revoked = await db.OrganizationInvitations
            .Where(i => i.Id == invitationId && i.OrganizationId == organizationId && i.AcceptedAt == null && i.RevokedAt == null
                && (mayOwners || i.Role != OrganizationRole.Owner))
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, now), cancellationToken);
        if (revoked == 0)
        {
            return MemberChange.Refused($"The invitation to {invitation.Email} was already accepted or withdrawn. Nothing was changed.");
        }

        await audit.AppendAsync(db, actor, AuditActions.OrganizationInviteRevoke, OrganizationService.TargetOf(organizationId),
            new { invitation = invitationId, email = invitation.Email }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success($"Withdrew the invitation to {invitation.Email}; its link no longer works.");
    }

    /// <summary>
    /// Sets, changes or (with null) removes a member's budget that resets, shared by all their keys of the
    /// organization. Admins set members' and admins' budgets, owners anyone's (the rule of <see cref="MayGrant"/>).
    /// A new period or time zone starts a fresh period; a new amount keeps what the period has spent (lowered
    /// below it, the member's keys stop until the period ends).
    /// Keys see it within a second (the key resolver's cache).
    /// </summary>
    public async Task<MemberChange> SetBudgetAsync(AuditActor actor, string organizationId, string memberId, KeyBudget? budget, CancellationToken cancellationToken = default)
    {
        if (budget is { } wanted && KeyBudget.Problem(wanted) is { } problem)
        {
            return MemberChange.Refused(problem + " Nothing was changed.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var mine = await RoleAsync(db, organizationId, actor, cancellationToken);
        var member = await db.OrganizationMembers.FirstOrDefaultAsync(m => m.OrganizationId == organizationId && m.UserId == memberId, cancellationToken);
        if (mine is not { } my || my == OrganizationRole.Member || member is null || !MayGrant(my, member.Role))
        {
            return MemberChange.NotAllowed;
        }

        var was = member.Budget;
        var fresh = KeyBudget.StartsAfresh(was, budget);
        // One update of the budget and (when its periods change) its counters: the writer's conditional debits see both together.
        await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId && m.UserId == memberId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.BudgetPeriod, budget?.Period ?? BudgetPeriod.None)
                .SetProperty(m => m.BudgetMicros, budget?.AmountMicros)
                .SetProperty(m => m.BudgetTimeZone, budget?.TimeZone)
                .SetProperty(m => m.BudgetPeriodStart, m => fresh ? 0L : m.BudgetPeriodStart)
                .SetProperty(m => m.BudgetSpentMicros, m => fresh ? 0L : m.BudgetSpentMicros), cancellationToken);
        await audit.AppendAsync(db, actor, AuditActions.OrganizationMemberBudgetSet, OrganizationService.TargetOf(organizationId),
            new { member = memberId, from = was?.ToString(), to = budget?.ToString() }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return MemberChange.Success(budget is { } set
            ? $"The member's budget is now {set}{(fresh ? "; a fresh period starts now" : "")}."
            : "The member's budget was removed.");
    }

    /// <summary>Whether someone of role <paramref name="mine"/> may give (or take away) <paramref name="role"/>: admins up to admin, owners anything.</summary>
    public static bool MayGrant(OrganizationRole mine, OrganizationRole role) =>
        mine == OrganizationRole.Owner || (mine == OrganizationRole.Admin && role != OrganizationRole.Owner);

    public static string Name(OrganizationRole role) => role.ToString().ToLowerInvariant();

    private static async Task<OrganizationRole?> RoleAsync(PortalDbContext db, string organizationId, AuditActor actor, CancellationToken cancellationToken) =>
        await db.OrganizationMembers.Where(m => m.OrganizationId == organizationId && m.UserId == actor.UserId)
            .Select(m => (OrganizationRole?)m.Role).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Locks the organization's row until the transaction ends (a write that changes nothing: SQLite has
    /// no SELECT … FOR UPDATE), so role changes and removals in one organization happen one at a time
    /// and two owners stepping down at once cannot both pass the last-owner check on PostgreSQL.
    /// </summary>
    private static Task LockAsync(PortalDbContext db, string organizationId, CancellationToken cancellationToken) =>
        db.Organizations.Where(o => o.Id == organizationId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Name, o => o.Name), cancellationToken);

    private static async Task<bool> IsLastOwnerAsync(PortalDbContext db, string organizationId, CancellationToken cancellationToken) =>
        await db.OrganizationMembers.CountAsync(m => m.OrganizationId == organizationId && m.Role == OrganizationRole.Owner, cancellationToken) <= 1;
}
