using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Organizations;

/// <summary>
/// A team that shares credit. Its id is an account id like a user's: the ledger, balance and usage
/// records of an organization are keyed by it, so billing treats both alike (ADR 34).
/// </summary>
public sealed class Organization
{
    /// <summary>A GUID string, the same shape as a user id, so it cannot collide with one.</summary>
    public required string Id { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Below this balance the owners are mailed once (ADR 26, as a user's alert); null: no alert.</summary>
    public long? LowBalanceThresholdMicros { get; set; }
    /// <summary>When the alert went out; null while it is armed.</summary>
    public DateTime? LowBalanceAlertedAt { get; set; }
}

internal sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> builder)
    {
        builder.ToTable("Organizations");
        builder.Property(o => o.Id).HasMaxLength(36);
        builder.Property(o => o.Name).HasMaxLength(OrganizationService.MaxNameLength);
    }
}
