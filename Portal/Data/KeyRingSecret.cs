using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace Portal.Data;

/// <summary>
/// One 256-bit key ring secret: seals an element of the key ring with AES-GCM and opens it again.
/// A sealed element names the secret by an id derived from it, so the right one of several (during a
/// rotation) is found, and a wrong one is reported as such rather than as corrupt data.
/// </summary>
public sealed class KeyRingSecret
{
    public const string Expected = "must be 32 random bytes in base64, e.g. the output of `openssl rand -base64 32`.";

    public static readonly XName SealedName = XName.Get("sealed", "urn:portal:key-ring");

    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    private KeyRingSecret(byte[] key)
    {
        _key = key;
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(key, "Portal key ring secret id"u8)[..8]);
    }

    /// <summary>Names the secret without revealing it (a keyed hash), in sealed elements and error messages.</summary>
    public string Id { get; }

    public static KeyRingSecret New() => new(RandomNumberGenerator.GetBytes(32));

    public static bool TryParse(string? text, [NotNullWhen(true)] out KeyRingSecret? secret)
    {
        secret = null;
        var bytes = new byte[48];
        if (text is null || !Convert.TryFromBase64String(text.Trim(), bytes, out var length) || length != 32)
        {
            return false;
        }

        secret = new KeyRingSecret(bytes[..32]);
        return true;
    }

    public static KeyRingSecret Parse(string text) =>
        TryParse(text, out var secret) ? secret : throw new FormatException($"A key ring secret {Expected}");

    public override string ToString() => Convert.ToBase64String(_key);

    /// <summary>The id of the secret that sealed <paramref name="sealedElement"/>.</summary>
    public static string? IdOf(XElement sealedElement) => (string?)sealedElement.Attribute("secret");

    public XElement Seal(XElement plaintext)
    {
        var data = Encoding.UTF8.GetBytes(plaintext.ToString(SaveOptions.DisableFormatting));
        var sealedBytes = new byte[NonceSize + data.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, data, sealedBytes.AsSpan(NonceSize, data.Length), sealedBytes.AsSpan(NonceSize + data.Length), AssociatedData());
        return new XElement(SealedName, new XAttribute("secret", Id), Convert.ToBase64String(sealedBytes));
    }

    public XElement Open(XElement sealedElement)
    {
        var sealedBytes = Convert.FromBase64String(sealedElement.Value);
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("A sealed key ring element is too short.");
        }

        var data = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, data.Length), sealedBytes.AsSpan(NonceSize + data.Length), data, AssociatedData());
        return XElement.Parse(Encoding.UTF8.GetString(data));
    }

    // Binds the ciphertext to this format and secret.
    private byte[] AssociatedData() => Encoding.UTF8.GetBytes($"Portal key ring v1 {Id}");
}
