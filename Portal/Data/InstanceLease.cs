using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data;

/// <summary>
/// One serving Portal process's claim to be alive (ADR 20): made at start-up, renewed every
/// <see cref="StoreOptions.LeaseRenewSeconds"/>. Credit holds name the lease of the instance that took
/// them; once a lease lapses, another instance settles its holds and deletes it.
/// </summary>
public sealed class InstanceLease
{
    /// <summary>Made at start-up; a restarted process gets a new one.</summary>
    public required string Id { get; set; }
    /// <summary>For the operator: which machine and process (never read by logic).</summary>
    public required string Host { get; set; }
    public int ProcessId { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime RenewedAt { get; set; }
    /// <summary>Past this, without a renewal, the instance is taken to be dead.</summary>
    public DateTime ExpiresAt { get; set; }
}

internal sealed class InstanceLeaseConfiguration : IEntityTypeConfiguration<InstanceLease>
{
    public void Configure(EntityTypeBuilder<InstanceLease> builder)
    {
        builder.ToTable("InstanceLeases");
        builder.Property(l => l.Id).HasMaxLength(InstanceLeases.IdLength);
        builder.Property(l => l.Host).HasMaxLength(255);
    }
}
