using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Billing;

public static class LedgerKind
{
    /// <summary>Credits added (or, negative, deducted) by an admin.</summary>
    public const string Grant = "grant";
    /// <summary>A request's worst case, reserved before the upstream call (negative).</summary>
    public const string Hold = "hold";
    /// <summary>A hold given back in full, when the request settles or fails (positive).</summary>
    public const string Release = "release";
    /// <summary>What a request actually cost (negative).</summary>
    public const string Charge = "charge";
}

/// <summary>
/// One append-only movement of an account's credits. A balance is the sum of its entries (ADR 3).
/// Request entries are unique per (request, kind), which makes settlement idempotent.
/// </summary>
public sealed class LedgerEntry
{
    public long Id { get; set; }
    /// <summary>The account whose credits moved: a user, or an organization (ADR 34).</summary>
    public required string UserId { get; set; }
    public required string Kind { get; set; }
    public long AmountMicros { get; set; }
    public string? RequestId { get; set; }
    /// <summary>The key a request entry was made through (null for grants and the playground).</summary>
    public string? ApiKeyId { get; set; }
    public string? Reason { get; set; }
    /// <summary>The admin who made a grant.</summary>
    public string? ActorId { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>On a hold: the lease of the instance whose request it is (ADR 20). Null on other entries, and on holds made before leases.</summary>
    public string? InstanceId { get; set; }
}

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> builder)
    {
        builder.ToTable("LedgerEntries");
        builder.Property(e => e.Kind).HasMaxLength(16);
        builder.Property(e => e.RequestId).HasMaxLength(64);
        builder.Property(e => e.ApiKeyId).HasMaxLength(36);
        builder.Property(e => e.Reason).HasMaxLength(500);
        builder.Property(e => e.InstanceId).HasMaxLength(Data.InstanceLeases.IdLength);
        builder.HasIndex(e => new { e.RequestId, e.Kind }).IsUnique();
        builder.HasIndex(e => new { e.UserId, e.Id });
        // No foreign key to users: the account may be an organization (ADR 34).
    }
}
