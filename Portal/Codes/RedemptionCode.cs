using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Codes;

/// <summary>
/// One code of a batch, as the store keeps it: the SHA-256 of its canonical form (like an API key's),
/// never the code. Redeemed once: the conditional update that sets <see cref="RedeemedAt"/> only
/// matches while it is null.
/// </summary>
public sealed class RedemptionCode
{
    public long Id { get; set; }
    public int BatchId { get; set; }
    public required string Hash { get; set; }
    public DateTime? RedeemedAt { get; set; }
    /// <summary>
    /// The account whose balance the code went to: a user's id today. Not a foreign key, so a later
    /// kind of account (an organization) can redeem too and the record outlives a deleted user.
    /// </summary>
    public string? RedeemedBy { get; set; }
}

internal sealed class RedemptionCodeConfiguration : IEntityTypeConfiguration<RedemptionCode>
{
    public void Configure(EntityTypeBuilder<RedemptionCode> builder)
    {
        builder.ToTable("RedemptionCodes");
        builder.Property(c => c.Hash).HasMaxLength(64);
        builder.Property(c => c.RedeemedBy).HasMaxLength(64);
        builder.HasIndex(c => c.Hash).IsUnique();
        builder.HasIndex(c => c.BatchId);
        builder.HasOne<CodeBatch>().WithMany().HasForeignKey(c => c.BatchId).OnDelete(DeleteBehavior.Cascade);
    }
}
