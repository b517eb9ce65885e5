using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;

namespace Portal.RateLimits;

/// <summary>A key's tokens-per-minute bucket for one model in the store, shared by every instance: when it is full again (µs since 1970).</summary>
public sealed class TokenLimitBucket
{
    public required string KeyId { get; set; }
    public required string ModelId { get; set; }
    public long FullAt { get; set; }

    /// <summary>As <see cref="RateLimitBucket"/>: PostgreSQL only, unlogged, gone with its key.</summary>
    public static void Configure(ModelBuilder builder) => builder.Entity<TokenLimitBucket>(bucket =>
    {
        bucket.ToTable("TokenLimitBuckets");
        bucket.HasKey(b => new { b.KeyId, b.ModelId });
        bucket.Property(b => b.KeyId).HasMaxLength(36);
        bucket.Property(b => b.ModelId).HasMaxLength(128);
        bucket.IsUnlogged();
        bucket.HasOne<ApiKey>().WithMany().HasForeignKey(b => b.KeyId).OnDelete(DeleteBehavior.Cascade);
    });
}
