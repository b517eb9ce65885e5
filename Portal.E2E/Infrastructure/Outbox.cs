using System.Text.RegularExpressions;

namespace Portal.E2E.Infrastructure;

/// <summary>The mail the fixture's Portal sent: without an SMTP server, .eml files in its data folder's outbox.</summary>
public static partial class Outbox
{
    /// <summary>The link in the mail to <paramref name="address"/> with <paramref name="subject"/> (the sender writes it within seconds).</summary>
    public static async Task<string> LinkInMailAsync(PortalServer server, string address, string subject)
    {
        var outbox = Path.Combine(server.DataFolder, "outbox");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
            {
                var message = await MimeKit.MimeMessage.LoadAsync(file);
                if (message.Subject == subject && message.To.Mailboxes.Any(m => m.Address == address))
                {
                    return Link().Match(message.TextBody ?? "").Value;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"no mail \"{subject}\" to {address} within 30 s");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();
}
