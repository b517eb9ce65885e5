using MimeKit;

namespace Portal.Email;

/// <summary>Where a message goes: an SMTP server, or a file in the data folder when none is configured.</summary>
public interface IMailTransport
{
    /// <summary>Delivers <paramref name="message"/>; returns the file it was written to, if any. Throws when it could not.</summary>
    Task<string?> SendAsync(MimeMessage message, CancellationToken cancellationToken);
}
