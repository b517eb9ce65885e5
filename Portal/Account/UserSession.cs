using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Account;

/// <summary>
/// One browser's sign-in, so the account can see and end it (ADR 27). Identity's cookie carries the
/// id; the cookie is checked against this row on every request. What it shows of the browser is kept
/// short on purpose: the kind of browser and system, and the network (an IPv4 /24 or IPv6 /48), not
/// the full user agent or address.
/// </summary>
public sealed class UserSession
{
    /// <summary>128 random bits, base64url.</summary>
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Updated at most every few minutes, not on every request.</summary>
    public DateTime LastSeenAt { get; set; }
    /// <summary>e.g. "Firefox on Linux".</summary>
    public required string Device { get; set; }
    /// <summary>e.g. "203.0.113.x".</summary>
    public required string Network { get; set; }
    /// <summary>How the sign-in was made: password, authenticator, recovery code, passkey.</summary>
    public required string Method { get; set; }
    /// <summary>Set when signed out or revoked; the cookie stops working at its next request.</summary>
    public DateTime? EndedAt { get; set; }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.ToTable("UserSessions");
        builder.Property(s => s.Id).HasMaxLength(32);
        builder.Property(s => s.UserId).HasMaxLength(64);
        builder.Property(s => s.Device).HasMaxLength(64);
        builder.Property(s => s.Network).HasMaxLength(64);
        builder.Property(s => s.Method).HasMaxLength(32);
        // The security page's question: this account's sessions, newest first.
        builder.HasIndex(s => new { s.UserId, s.LastSeenAt });
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
