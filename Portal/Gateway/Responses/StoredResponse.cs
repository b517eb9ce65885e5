using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Account;

namespace Portal.Gateway.Responses;

/// <summary>
/// A Response kept for <c>previous_response_id</c> and <c>GET</c>/<c>DELETE /responses/{id}</c> (ADR 32):
/// visible only to its user's keys (an organization key's member, ADR 34), for <see cref="ResponsesOptions.KeepDays"/>, within the account's
/// <see cref="ResponsesOptions.StoredBytesPerAccount"/>.
/// </summary>
public sealed class StoredResponse
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>The conversation up to this Response, as input items: what came before it and this request's own input.</summary>
    public required string Input { get; set; }
    /// <summary>The Response object as the client got it.</summary>
    public required string Response { get; set; }
    /// <summary>UTF-8 bytes of <see cref="Input"/> and <see cref="Response"/>: what the account's allowance counts.</summary>
    public long Bytes { get; set; }
}

internal sealed class StoredResponseConfiguration : IEntityTypeConfiguration<StoredResponse>
{
    public void Configure(EntityTypeBuilder<StoredResponse> builder)
    {
        builder.ToTable("StoredResponses");
        builder.Property(r => r.Id).HasMaxLength(64);
        builder.HasIndex(r => new { r.UserId, r.CreatedAt });
        builder.HasIndex(r => r.CreatedAt); // expired ones are deleted across accounts
        builder.HasOne<PortalUser>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
