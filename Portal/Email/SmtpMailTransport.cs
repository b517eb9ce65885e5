using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Portal.Email;

/// <summary>Sends through the configured SMTP server with MailKit, one connection per message.</summary>
public sealed class SmtpMailTransport(IOptions<EmailOptions> options) : IMailTransport
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task<string?> SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        await client.ConnectAsync(settings.SmtpHost!, settings.SmtpPort, settings.Security switch
        {
            EmailSecurity.Tls => SecureSocketOptions.SslOnConnect,
            EmailSecurity.StartTlsWhenAvailable => SecureSocketOptions.StartTlsWhenAvailable,
            EmailSecurity.None => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        }, cancellationToken);
        if (!string.IsNullOrWhiteSpace(settings.UserName))
        {
            await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        return null;
    }
}
