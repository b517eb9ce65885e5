using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Codes;

/// <summary>
/// A batch of redemption codes an admin generated: each code adds <see cref="ValueMicros"/> to the
/// balance of the account that redeems it, once (ADR 29: redemption codes and periodic budgets).
/// The codes themselves are only in <see cref="RedemptionCode"/>, hashed.
/// </summary>
public sealed class CodeBatch
{
    public int Id { get; set; }
    public long ValueMicros { get; set; }
    public int Count { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>After this instant (UTC) the batch's codes are refused; null: they never expire.</summary>
    public DateTime? ExpiresAt { get; set; }
    /// <summary>The admin's note (what the codes are for): admins see it, redeemers never do.</summary>
    public required string Note { get; set; }
    /// <summary>The admin's email at the time, or <c>cli</c>.</summary>
    public required string CreatedBy { get; set; }
    /// <summary>When an admin withdrew the batch: its unredeemed codes are refused from then on.</summary>
    public DateTime? RevokedAt { get; set; }
}

internal sealed class CodeBatchConfiguration : IEntityTypeConfiguration<CodeBatch>
{
    public void Configure(EntityTypeBuilder<CodeBatch> builder)
    {
        builder.ToTable("CodeBatches");
        builder.Property(b => b.Note).HasMaxLength(RedemptionCodes.MaxNoteLength);
        builder.Property(b => b.CreatedBy).HasMaxLength(256);
    }
}
