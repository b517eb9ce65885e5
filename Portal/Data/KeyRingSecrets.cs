using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.Extensions.Options;

namespace Portal.Data;

/// <summary>
/// The key ring secret in use and those being rotated out, read once at start-up
/// (<see cref="DataProtectionExtensions.EncryptKeyRingAtRestAsync"/>) from configuration, a key file,
/// or — on SQLite with nothing configured and no encrypted key in the store yet — a key file
/// generated beside the database (ADR 14).
/// </summary>
public sealed class KeyRingSecrets(IOptions<KeyRingOptions> options, IOptions<StoreOptions> store, IHostEnvironment environment)
{
    private KeyRingSecret? _current;
    private IReadOnlyList<KeyRingSecret> _previous = [];

    public KeyRingSecret Current => _current
        ?? throw new InvalidOperationException("The key ring secret is read at start-up, before the key ring is used (Program.cs).");

    /// <summary>Where the secret came from, for messages.</summary>
    public string Source { get; private set; } = "";

    /// <summary>Opens an element sealed by the current secret or a previous one.</summary>
    public XElement Open(XElement sealedElement)
    {
        var id = KeyRingSecret.IdOf(sealedElement);
        IEnumerable<KeyRingSecret> known = _current is null ? _previous : _previous.Prepend(_current);
        var secret = known.FirstOrDefault(s => s.Id == id)
            ?? throw new CryptographicException(
                $"This key ring element was encrypted with key ring secret {id}, which is neither DataProtection:KeyRingSecret nor one of DataProtection:PreviousKeyRingSecrets.");
        return secret.Open(sealedElement);
    }

    /// <summary>Reads the secrets; <paramref name="storeHasEncryptedKeys"/> forbids generating a new one.</summary>
    public void Load(bool storeHasEncryptedKeys)
    {
        var settings = options.Value;
        _previous = [.. settings.PreviousKeyRingSecrets.Select(KeyRingSecret.Parse)]; // validated with the options
        if (KeyRingSecret.TryParse(settings.KeyRingSecret, out var configured))
        {
            (_current, Source) = (configured, "DataProtection:KeyRingSecret");
            return;
        }

        if (!string.IsNullOrWhiteSpace(settings.KeyRingSecretFile))
        {
            var file = Path.GetFullPath(settings.KeyRingSecretFile, environment.ContentRootPath);
            (_current, Source) = (File.Exists(file) ? ReadFile(file, "DataProtection:KeyRingSecretFile")
                : throw Invalid($"DataProtection:KeyRingSecretFile names {file}, which does not exist."), file);
            return;
        }

        if (store.Value.Provider == StoreProvider.Postgres)
        {
            throw Invalid("DataProtection:KeyRingSecret (or DataProtection:KeyRingSecretFile) is required when Store:Provider is Postgres: "
                + "every instance encrypts the shared key ring with the same secret, which must not be in the database.");
        }

        var defaultFile = Path.Combine(StoreExtensions.DataFolderPath(store.Value, environment), KeyRingOptions.DefaultFileName);
        Source = defaultFile;
        if (File.Exists(defaultFile))
        {
            _current = ReadFile(defaultFile, "DataProtection:KeyRingSecret");
            return;
        }

        if (storeHasEncryptedKeys)
        {
            throw Invalid($"DataProtection:KeyRingSecret: the store's key ring is encrypted, but no secret is configured and {defaultFile} does not exist. "
                + "Restore that file from the machine the data came from, or set DataProtection:KeyRingSecret or DataProtection:KeyRingSecretFile.");
        }

        _current = Generate(defaultFile);
    }

    /// <summary>A new secret in a file only its owner may read; if another process made it first, theirs.</summary>
    private static KeyRingSecret Generate(string file)
    {
        var secret = KeyRingSecret.New();
        // Written aside and renamed into place, so a process starting at the same moment never reads a half-written file.
        var draft = $"{file}.{Guid.NewGuid():N}.tmp";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(draft, create))
        {
            writer.WriteLine(secret.ToString());
        }

        try
        {
            File.Move(draft, file, overwrite: false);
            return secret;
        }
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(draft);
            return ReadFile(file, "DataProtection:KeyRingSecret");
        }
    }

    private static KeyRingSecret ReadFile(string file, string setting)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"{setting}: {file} cannot be read ({e.Message}).");
        }

        return KeyRingSecret.TryParse(text, out var secret) ? secret
            : throw Invalid($"{setting}: {file} does not hold a key ring secret; it {KeyRingSecret.Expected}");
    }

    public static OptionsValidationException Invalid(string message) =>
        new(KeyRingOptions.Section, typeof(KeyRingOptions), [message]);
}
