using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Catalog;

/// <summary>An OpenAI-compatible provider serving a model. None enabled: the simulated upstream serves it.</summary>
public sealed class ModelUpstream
{
    public int Id { get; set; }
    public required string ModelId { get; set; }
    public required string BaseUrl { get; set; }
    public required string UpstreamModel { get; set; }
    /// <summary>The provider's API key, encrypted with Data Protection; never shown or logged.</summary>
    public string? ProtectedApiKey { get; set; }
    /// <summary>Lower is tried first.</summary>
    public int Priority { get; set; }
    public int TimeoutSeconds { get; set; } = 120;
    public bool Enabled { get; set; } = true;
}

internal sealed class ModelUpstreamConfiguration : IEntityTypeConfiguration<ModelUpstream>
{
    public void Configure(EntityTypeBuilder<ModelUpstream> builder)
    {
        builder.ToTable("ModelUpstreams");
        builder.Property(u => u.ModelId).HasMaxLength(128);
        builder.Property(u => u.BaseUrl).HasMaxLength(2048);
        builder.Property(u => u.UpstreamModel).HasMaxLength(256);
    }
}
