using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Alerts;

/// <summary>
/// When the admins were last mailed about an upstream that keeps failing (ADR 26): the one piece of
/// state instances share, so that of several instances seeing the same failures one mails, at most
/// once per <see cref="AlertOptions.UpstreamAlertMinutes"/>. Not a foreign key: an alert outlives a
/// deleted upstream harmlessly.
/// </summary>
public sealed class UpstreamAlert
{
    public int UpstreamId { get; set; }
    public DateTime LastAlertAt { get; set; }
}

internal sealed class UpstreamAlertConfiguration : IEntityTypeConfiguration<UpstreamAlert>
{
    public void Configure(EntityTypeBuilder<UpstreamAlert> builder)
    {
        builder.ToTable("UpstreamAlerts");
        builder.HasKey(a => a.UpstreamId);
        builder.Property(a => a.UpstreamId).ValueGeneratedNever();
    }
}
