using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Email;

/// <summary>How a row leaves: as mail, or as a signed POST to a user's webhook (ADR 26), with the same claims and backoff.</summary>
public enum OutboxChannel
{
    Email = 0,
    Webhook = 1,
}

public enum OutboxState
{
    Queued = 0,
    Sent = 1,
    Failed = 2,
}

/// <summary>
/// One message in the outbox (ADR 23): written by the request that caused it, sent by
/// <see cref="OutboxSender"/>. A sender claims a row by writing its own <see cref="ClaimToken"/>
/// with a lease in one conditional update, so two instances never send the same row at once.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }
    /// <summary>What it is (<c>confirm-email</c>, <c>reset-password</c>, …): for the Outbox page and the resend cooldown.</summary>
    public required string Kind { get; set; }
    /// <summary>The account it concerns, when there is one. Not a foreign key: the outbox outlives accounts.</summary>
    public string? UserId { get; set; }
    /// <summary>Mail, or a webhook delivery whose <see cref="To"/> is the URL and <see cref="Body"/> the JSON event.</summary>
    public OutboxChannel Channel { get; set; }
    public required string To { get; set; }
    public required string Subject { get; set; }
    /// <summary>Plain text. Emptied once sent: its links are one-time secrets the store need not keep.</summary>
    public required string Body { get; set; }
    public OutboxState State { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? SentAt { get; set; }
    /// <summary>While a sender holds the row: until when, and who.</summary>
    public DateTime? ClaimedUntil { get; set; }
    public Guid? ClaimToken { get; set; }
    /// <summary>Without an SMTP server: the <c>.eml</c> file it was written to, relative to the outbox folder.</summary>
    public string? File { get; set; }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("OutboxMessages");
        builder.Property(m => m.Kind).HasMaxLength(32);
        builder.Property(m => m.UserId).HasMaxLength(64);
        builder.Property(m => m.To).HasMaxLength(256);
        builder.Property(m => m.Subject).HasMaxLength(200);
        builder.Property(m => m.Body).HasMaxLength(8000);
        builder.Property(m => m.LastError).HasMaxLength(1000);
        builder.Property(m => m.File).HasMaxLength(200);
        // The sender's question: what is due now.
        builder.HasIndex(m => new { m.State, m.NextAttemptAt });
        // The resend cooldown's question: this account's latest message of a kind.
        builder.HasIndex(m => new { m.UserId, m.Kind, m.CreatedAt });
    }
}
