using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Organizations;

/// <summary>
/// An invitation to join an organization, sent to an email address. The accept link's token is a
/// bearer secret, so only its SHA-256 is kept, as for API keys and redemption codes.
/// </summary>
public sealed class OrganizationInvitation
{
    public long Id { get; set; }
    public required string OrganizationId { get; set; }
    /// <summary>The address invited; only a signed-in user with this (verified) address may accept.</summary>
    public required string Email { get; set; }
    public OrganizationRole Role { get; set; }
    /// <summary>SHA-256 of the accept link's token, lowercase hex.</summary>
    public required string TokenHash { get; set; }
    /// <summary>The member who sent it.</summary>
    public required string InvitedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? AcceptedAt { get; set; }
    public string? AcceptedBy { get; set; }
    public DateTime? RevokedAt { get; set; }
}

internal sealed class OrganizationInvitationConfiguration : IEntityTypeConfiguration<OrganizationInvitation>
{
    public void Configure(EntityTypeBuilder<OrganizationInvitation> builder)
    {
        builder.ToTable("OrganizationInvitations");
        builder.Property(i => i.OrganizationId).HasMaxLength(36);
        builder.Property(i => i.Email).HasMaxLength(256);
        builder.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.TokenHash).HasMaxLength(64);
        builder.Property(i => i.InvitedBy).HasMaxLength(64);
        builder.Property(i => i.AcceptedBy).HasMaxLength(64);
        builder.HasIndex(i => i.TokenHash).IsUnique();
        builder.HasIndex(i => new { i.OrganizationId, i.Email });
        builder.HasOne<Organization>().WithMany().HasForeignKey(i => i.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}
