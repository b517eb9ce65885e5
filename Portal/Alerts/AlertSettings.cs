using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Account;

namespace Portal.Alerts;

/// <summary>
/// A user's low-balance alert (ADR 26): the threshold, and whether the alert has gone out since the
/// balance last rose above it. <see cref="LowBalanceAlertedAt"/> is the "armed" flag: null means armed,
/// and a conditional update from null to a time is what decides that exactly one email goes out.
/// </summary>
public sealed class AlertSettings
{
    public required string UserId { get; set; }
    /// <summary>Below this balance the user is mailed once; null: no alert.</summary>
    public long? LowBalanceThresholdMicros { get; set; }
    /// <summary>When the alert went out; null while it is armed.</summary>
    public DateTime? LowBalanceAlertedAt { get; set; }
    /// <summary>Where alert events are posted, signed (ADR 26); null: no webhook.</summary>
    public string? WebhookUrl { get; set; }
    /// <summary>The webhook's signing secret, protected with ASP.NET Core Data Protection: it must be read back to sign.</summary>
    public string? ProtectedWebhookSecret { get; set; }
}

internal sealed class AlertSettingsConfiguration : IEntityTypeConfiguration<AlertSettings>
{
    public void Configure(EntityTypeBuilder<AlertSettings> builder)
    {
        builder.ToTable("AlertSettings");
        builder.HasKey(a => a.UserId);
        builder.Property(a => a.WebhookUrl).HasMaxLength(WebhookAddress.MaxLength);
        builder.Property(a => a.ProtectedWebhookSecret).HasMaxLength(1000);
        builder.HasOne<PortalUser>().WithOne().HasForeignKey<AlertSettings>(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
