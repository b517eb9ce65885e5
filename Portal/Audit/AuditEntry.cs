using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Audit;

/// <summary>What an audit entry records, as stable strings (they are part of each entry's hash).</summary>
public static class AuditActions
{
    public const string CreditsGrant = "credits.grant";
    public const string CreditsDeduct = "credits.deduct";
    public const string ModelCreate = "model.create";
    public const string ModelUpdate = "model.update";
    public const string UpstreamCreate = "upstream.create";
    public const string UpstreamUpdate = "upstream.update";
    public const string UpstreamDelete = "upstream.delete";
    public const string ApiSwitch = "api.switch";
    public const string RoleSet = "role.set";
    public const string CodesGenerate = "codes.generate";
    public const string CodesRevoke = "codes.revoke";
    public const string OrganizationCreate = "organization.create";
    public const string OrganizationKeyCreate = "organization.key_create";
    public const string OrganizationKeyRevoke = "organization.key_revoke";
    public const string OrganizationInvite = "organization.invite";
    public const string OrganizationJoin = "organization.join";
    public const string OrganizationRoleSet = "organization.role_set";
    public const string OrganizationRemove = "organization.remove_member";
    public const string OrganizationLeave = "organization.leave";
    public const string OrganizationInviteRevoke = "organization.invite_revoke";
    public const string OrganizationRename = "organization.rename";
    public const string OrganizationDelete = "organization.delete";
    /// <summary>A member's budget that resets set, changed or removed (target: the organization; details name the member).</summary>
    public const string OrganizationMemberBudgetSet = "organization.member_budget_set";
    /// <summary>An organization's low-balance alert threshold set or turned off by an owner.</summary>
    public const string OrganizationLowBalanceAlert = "organization.low_balance_alert";
    /// <summary>A key's budget that resets set, changed or removed after its creation.</summary>
    public const string KeyBudgetSet = "key.budget_set";
    /// <summary>A redemption code attempt that failed, with the reason only (never the code): at most one per account and minute.</summary>
    public const string CodeRedeemFailed = "code.redeem_failed";
    // Account events, by the account itself (or, for a failed sign-in, by whoever tried): the security log.
    public const string SignIn = "account.sign_in";
    public const string SignInFailed = "account.sign_in_failed";
    public const string PasswordChange = "account.password_change";
    public const string PasswordReset = "account.password_reset";
    public const string EmailConfirm = "account.email_confirm";
    public const string EmailChange = "account.email_change";
    public const string LowBalanceAlert = "account.low_balance_alert";
    public const string WebhookChange = "account.webhook_change";
    // Second factors (ADR 27): turned on or off, new recovery codes. A sign-in with a second factor is a SignIn whose details name it.
    public const string TwoFactorEnable = "account.two_factor_enable";
    public const string TwoFactorDisable = "account.two_factor_disable";
    public const string RecoveryCodesRegenerate = "account.recovery_codes_regenerate";
    public const string PasskeyAdd = "account.passkey_add";
    public const string PasskeyRename = "account.passkey_rename";
    public const string PasskeyRemove = "account.passkey_remove";
    public const string SessionEnd = "account.session_end";
    /// <summary>A redemption code turned into credits (the admins see the batch; never the code).</summary>
    public const string CodeRedeem = "account.code_redeem";
}

/// <summary>Who did it: an admin (user id and the email they had then), or the command line.</summary>
public sealed record AuditActor(string? UserId, string Name)
{
    public static readonly AuditActor Cli = new(null, "cli");
}

/// <summary>
/// One admin action. Append-only and chained: <see cref="Hash"/> covers the entry's
/// content and <see cref="PrevHash"/>, the hash of the entry before it, so altering or removing an
/// entry breaks the chain at that point (ADR 4). Details never hold secrets.
/// </summary>
public sealed class AuditEntry
{
    public long Id { get; set; }
    /// <summary>UTC, whole microseconds: what both stores keep exactly, so the hash survives a round trip.</summary>
    public DateTime At { get; set; }
    /// <summary>The acting admin's user id; null for the command line. Not a foreign key: the log outlives accounts.</summary>
    public string? ActorId { get; set; }
    /// <summary>The admin's email at the time, or <c>cli</c>.</summary>
    public required string Actor { get; set; }
    public required string Action { get; set; }
    /// <summary>What was acted on, e.g. <c>user:ada@example.com</c>, <c>model:glm-5</c>, <c>upstream:3</c>.</summary>
    public required string Target { get; set; }
    /// <summary>A JSON object: amounts, reasons, changed fields (never keys).</summary>
    public required string Details { get; set; }
    public required string PrevHash { get; set; }
    public required string Hash { get; set; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("AuditEntries");
        builder.Property(e => e.ActorId).HasMaxLength(64);
        builder.Property(e => e.Actor).HasMaxLength(256);
        builder.Property(e => e.Action).HasMaxLength(64);
        builder.Property(e => e.Target).HasMaxLength(300);
        builder.Property(e => e.Details).HasMaxLength(8000);
        builder.Property(e => e.PrevHash).HasMaxLength(64);
        builder.Property(e => e.Hash).HasMaxLength(64);
        // Each hash may be followed once: two writers that both read the same last entry cannot
        // both commit, so the chain can never fork (ADR 4).
        builder.HasIndex(e => e.PrevHash).IsUnique();
        builder.HasIndex(e => e.Hash).IsUnique();
        // An account's security log (its sign-ins and changes) is found by target.
        builder.HasIndex(e => e.Target);
    }
}
