using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Portal.Data;

/// <summary>Data Protection's hook for encrypting each new key before it is stored: sealed with the current key ring secret.</summary>
public sealed class KeyRingEncryptor(KeyRingSecrets secrets) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(secrets.Current.Seal(plaintextElement), typeof(KeyRingDecryptor));
}
