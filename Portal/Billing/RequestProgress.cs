using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Billing;

/// <summary>
/// What a long stream had delivered when it last reported (ADR 20): written by the
/// <see cref="LedgerWriter"/> every <c>Gateway:ProgressSeconds</c>, deleted with the request's
/// settlement. If the instance serving it dies, whichever instance settles its hold charges this
/// instead of releasing it for nothing. One row per running long stream; short requests write none.
/// </summary>
public sealed class RequestProgress
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public required string RequestId { get; set; }
    /// <summary>The prompt and the completion tokens delivered so far, priced.</summary>
    public long ChargeMicros { get; set; }
    /// <summary>The usage record the request would be settled with (<see cref="UsageRecord"/> as JSON): a snapshot written whole, never queried.</summary>
    public required string Record { get; set; }
    public DateTime RecordedAt { get; set; }

    public static string Serialize(UsageRecord record) => JsonSerializer.Serialize(record, Json);

    public UsageRecord ToRecord() => JsonSerializer.Deserialize<UsageRecord>(Record, Json)!;
}

internal sealed class RequestProgressConfiguration : IEntityTypeConfiguration<RequestProgress>
{
    public void Configure(EntityTypeBuilder<RequestProgress> builder)
    {
        builder.ToTable("RequestProgress");
        builder.HasKey(p => p.RequestId);
        builder.Property(p => p.RequestId).HasMaxLength(64);
    }
}
