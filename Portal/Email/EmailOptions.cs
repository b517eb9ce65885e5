using System.ComponentModel.DataAnnotations;
using MimeKit;

namespace Portal.Email;

/// <summary>How mail leaves (ADR 23). Bound from the <c>Email</c> section.</summary>
public sealed class EmailOptions : IValidatableObject
{
    public const string Section = "Email";

    /// <summary>The SMTP server. Empty: no server, each message is written as an <c>.eml</c> file under the data folder's <c>outbox/</c>.</summary>
    public string? SmtpHost { get; set; }

    [Range(1, 65535)]
    public int SmtpPort { get; set; } = 587;

    /// <summary>How the connection is secured (see <see cref="EmailSecurity"/>).</summary>
    public EmailSecurity Security { get; set; } = EmailSecurity.StartTls;

    /// <summary>Sign in to the server with this name (and <see cref="Password"/>); empty: send without signing in.</summary>
    public string? UserName { get; set; }

    /// <summary>From configuration or the environment (<c>Email__Password</c>) only; never logged, never shown.</summary>
    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>Portal &lt;no-reply@example.com&gt;</c>.</summary>
    [Required]
    public string From { get; set; } = "Portal <no-reply@localhost>";

    /// <summary>
    /// The site's address as users reach it, e.g. <c>https://portal.example.com</c>, for the links in
    /// mail. Empty: the address of the request that caused the mail (fine behind a proxy that only
    /// forwards its own host names; set it otherwise, so a forged Host header cannot move a link).
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>How often the outbox is looked at for messages due (a new message is sent at once).</summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 5;

    /// <summary>The wait after the first failed attempt; it doubles with each failure, up to an hour.</summary>
    [Range(1, 3600)]
    public int RetrySeconds { get; set; } = 30;

    /// <summary>Attempts after which a message is marked failed and left for an admin to see.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 10;

    public bool UsesSmtp => !string.IsNullOrWhiteSpace(SmtpHost);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!MailboxAddress.TryParse(From, out _))
        {
            yield return new ValidationResult($"Email:From is not an email address: '{From}'.", [nameof(From)]);
        }

        if (!string.IsNullOrWhiteSpace(PublicUrl) && !(Uri.TryCreate(PublicUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            yield return new ValidationResult("Email:PublicUrl must be an absolute http(s) address, e.g. https://portal.example.com.", [nameof(PublicUrl)]);
        }

        if (!string.IsNullOrEmpty(Password) && string.IsNullOrWhiteSpace(UserName))
        {
            yield return new ValidationResult("Email:Password is set but Email:UserName is not: set both, or neither.", [nameof(UserName)]);
        }
    }
}

/// <summary>How the SMTP connection is secured.</summary>
public enum EmailSecurity
{
    /// <summary>Upgrade with STARTTLS, and refuse a server that cannot (port 587).</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,
    /// <summary>STARTTLS when the server offers it, plain otherwise.</summary>
    StartTlsWhenAvailable,
    /// <summary>Plain text: only for a relay on the same machine or a test server.</summary>
    None,
}
