using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Portal.Tests.Account;

/// <summary>
/// What an authenticator app does with the key a page shows (RFC 6238: HMAC-SHA1 of 30-second steps,
/// 6 digits; RFC 4648 base32 for the key), written here from the RFCs so the tests do not trust Portal's
/// own code to check Portal.
/// </summary>
public static class Totp
{
    /// <summary>The code for the step holding <paramref name="at"/>. Identity checks codes against the wall clock, so tests pass it the real now.</summary>
    public static string Code(string key, DateTimeOffset at)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, at.ToUnixTimeSeconds() / 30);
        var hash = HMACSHA1.HashData(Base32(key), counter);
        var offset = hash[^1] & 0x0f;
        var number = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7fffffff) % 1_000_000;
        return number.ToString("D6");
    }

    public static string Now(string key) => Code(key, DateTimeOffset.UtcNow);

    /// <summary>A 6-digit code no step within ±5 minutes of now has: certainly wrong.</summary>
    public static string Wrong(string key)
    {
        var near = Enumerable.Range(-10, 21).Select(step => Code(key, DateTimeOffset.UtcNow.AddSeconds(30 * step))).ToHashSet();
        return Enumerable.Range(0, 100).Select(n => (123_456 + n * 7_919).ToString("D6")).First(c => !near.Contains(c));
    }

    private static byte[] Base32(string key)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var clean = key.Replace(" ", "").TrimEnd('=').ToUpperInvariant();
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in clean)
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. bytes];
    }
}
