using Microsoft.Extensions.Options;
using MimeKit;
using Portal.Data;

namespace Portal.Email;

/// <summary>
/// The embedded default when no SMTP server is configured: each message becomes an <c>.eml</c> file
/// in the data folder's <c>outbox/</c> (any mail program opens one), listed on the admin Outbox page.
/// </summary>
public sealed class EmlFolderTransport(IOptions<StoreOptions> store, IHostEnvironment environment) : IMailTransport
{
    public const string FolderName = "outbox";

    public string Folder => Path.Combine(StoreExtensions.DataFolderPath(store.Value, environment), FolderName);

    public async Task<string?> SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var name = $"{message.Date.UtcDateTime:yyyyMMdd-HHmmss}-{(message.MessageId ?? Guid.NewGuid().ToString("N")).Split('@')[0]}.eml";
        var path = Path.Combine(Folder, name);
        // Written aside and moved into place, so a reader never sees half a message.
        var partial = path + ".partial";
        await message.WriteToAsync(partial, cancellationToken);
        File.Move(partial, path, overwrite: true);
        return name;
    }
}
