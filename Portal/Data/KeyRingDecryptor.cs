using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Portal.Data;

/// <summary>
/// Opens key ring elements sealed by <see cref="KeyRingEncryptor"/>. Data Protection creates it by
/// the type name stored beside each sealed element, passing the application's services.
/// </summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) =>
        (services.GetService<KeyRingSecrets>() ?? throw new CryptographicException("No key ring secret is configured to decrypt this key."))
            .Open(encryptedElement);
}
