using Microsoft.EntityFrameworkCore;
using Portal.ApiKeys;

namespace Portal.RateLimits;

/// <summary>A key's token bucket in the store, shared by every instance: when it is full again (µs since 1970).</summary>
public sealed class RateLimitBucket
{
    public required string KeyId { get; set; }
    public long FullAt { get; set; }

    /// <summary>
    /// Only the PostgreSQL store has this table (SQLite means one instance, which counts in memory).
    /// Unlogged: a bucket is worth nothing after a server crash, and a commit that wrote no WAL does not
    /// wait for a disk flush, so the per-request update stays cheap.
    /// </summary>
    public static void Configure(ModelBuilder builder) => builder.Entity<RateLimitBucket>(bucket =>
    {
        bucket.ToTable("RateLimitBuckets");
        bucket.HasKey(b => b.KeyId);
        bucket.Property(b => b.KeyId).HasMaxLength(36);
        bucket.IsUnlogged();
        bucket.HasOne<ApiKey>().WithOne().HasForeignKey<RateLimitBucket>(b => b.KeyId).OnDelete(DeleteBehavior.Cascade);
    });
}
