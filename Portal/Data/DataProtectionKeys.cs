using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace Portal.Data;

/// <summary>One ASP.NET Core Data Protection key, as XML.</summary>
public sealed class DataProtectionKey
{
    public int Id { get; set; }
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> builder) => builder.ToTable("DataProtectionKeys");
}

/// <summary>
/// Keeps Data Protection keys (auth cookies, antiforgery, encrypted upstream keys) in the store, so
/// every instance can read what another wrote and the keys outlive the machine. Each key's secret
/// part is sealed with the key ring secret, which is not in the store (ADR 14). The registry here had
/// no Microsoft.AspNetCore.DataProtection.EntityFrameworkCore for .NET 8, hence this small repository.
/// </summary>
internal sealed class StoreXmlRepository(IServiceProvider services) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var db = services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        return db.DataProtectionKeys.AsNoTracking().AsEnumerable().Select(k => XElement.Parse(k.Xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var db = services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}

public static class DataProtectionExtensions
{
    // Data Protection's own markup: what a key marks as secret, and the wrapper of a secret once encrypted.
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtectionNamespace + "requiresEncryption";
    private static readonly XName EncryptedSecret = DataProtectionNamespace + "encryptedSecret";

    public static IHostApplicationBuilder AddStoredDataProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeyRingOptions>()
            .BindConfiguration(KeyRingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<KeyRingSecrets>();
        builder.Services.AddDataProtection().SetApplicationName("Portal");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(options =>
            {
                options.XmlRepository = new StoreXmlRepository(sp);
                options.XmlEncryptor = new KeyRingEncryptor(sp.GetRequiredService<KeyRingSecrets>());
            }));
        return builder;
    }

    /// <summary>
    /// Before the key ring is first used: reads the key ring secret, then seals with it every key
    /// secret the store holds unsealed (keys written before ADR 14) or sealed with a previous secret
    /// (a rotation), so that no key in the store opens without the current secret. Keys keep their
    /// ids and values: cookies and stored provider keys stay valid. A store whose keys no configured
    /// secret opens stops start-up with a configuration error naming the setting.
    /// </summary>
    public static async Task EncryptKeyRingAtRestAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        var keys = (await db.DataProtectionKeys.ToListAsync(cancellationToken)).Select(row => (Row: row, Xml: XElement.Parse(row.Xml))).ToList();
        var secrets = services.GetRequiredService<KeyRingSecrets>();
        secrets.Load(storeHasEncryptedKeys: keys.Any(k => k.Xml.Descendants(EncryptedSecret).Any()));

        foreach (var (row, xml) in keys)
        {
            if (Reseal(xml, secrets))
            {
                row.Xml = xml.ToString(SaveOptions.DisableFormatting);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static bool Reseal(XElement key, KeyRingSecrets secrets)
    {
        var changed = false;
        foreach (var secret in key.Descendants().Where(e => (bool?)e.Attribute(RequiresEncryption) == true).ToList())
        {
            secret.ReplaceWith(Wrap(secrets.Current.Seal(secret)));
            changed = true;
        }

        foreach (var wrapper in key.Descendants(EncryptedSecret).ToList())
        {
            // Sealed by another encryptor (e.g. a certificate an operator configured by hand): left to it.
            if (wrapper.Elements().SingleOrDefault() is not { } sealedElement || sealedElement.Name != KeyRingSecret.SealedName
                || KeyRingSecret.IdOf(sealedElement) == secrets.Current.Id)
            {
                continue;
            }

            XElement secret;
            try
            {
                secret = secrets.Open(sealedElement);
            }
            catch (CryptographicException)
            {
                throw KeyRingSecrets.Invalid(
                    $"DataProtection:KeyRingSecret: the store's key ring was encrypted with key ring secret {KeyRingSecret.IdOf(sealedElement)}, "
                    + $"not with the configured one ({secrets.Current.Id}, from {secrets.Source}). Configure the secret it was encrypted with; "
                    + "while rotating, keep the old one in DataProtection:PreviousKeyRingSecrets.");
            }

            wrapper.ReplaceWith(Wrap(secrets.Current.Seal(secret)));
            changed = true;
        }

        return changed;
    }

    // The form Data Protection gives an encrypted secret, naming the type that decrypts it.
    private static XElement Wrap(XElement sealedElement) =>
        new(EncryptedSecret, new XAttribute("decryptorType", typeof(KeyRingDecryptor).AssemblyQualifiedName!), sealedElement);
}
