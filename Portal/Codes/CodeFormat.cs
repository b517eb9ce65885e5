using System.Security.Cryptography;
using System.Text;

namespace Portal.Codes;

/// <summary>
/// What a redemption code looks like: <c>PORTAL-XXXXX-XXXXX-XXXXX-XXXXX</c>, twenty characters of
/// Crockford's base 32 (digits and capitals without I, L, O, U): 100 random bits, easy to read aloud
/// and type. Input is forgiving the way Crockford's alphabet intends: case, spaces and dashes do not
/// matter, O reads as 0 and I or L as 1.
/// </summary>
public static class CodeFormat
{
    public const string Prefix = "PORTAL";
    public const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    public const int Length = 20;
    private const int GroupLength = 5;

    /// <summary>A new code, as shown to the admin.</summary>
    public static string New()
    {
        var random = RandomNumberGenerator.GetString(Alphabet, Length);
        return Prefix + "-" + string.Join('-', random.Chunk(GroupLength).Select(g => new string(g)));
    }

    /// <summary>The twenty characters a typed code stands for, or null when it cannot be a code at all.</summary>
    public static string? Canonical(string? typed)
    {
        if (string.IsNullOrWhiteSpace(typed) || typed.Length > 100)
        {
            return null;
        }

        var text = new StringBuilder(Length + Prefix.Length);
        foreach (var c in typed)
        {
            if (c is '-' or ' ' or '\t' || char.IsWhiteSpace(c))
            {
                continue;
            }

            text.Append(char.ToUpperInvariant(c) switch
            {
                'O' => '0',
                'I' or 'L' => '1',
                var upper => upper,
            });
        }

        var s = text.ToString();
        // "PORTAL" read through the substitutions above.
        if (s.StartsWith("P0RTA1", StringComparison.Ordinal))
        {
            s = s[Prefix.Length..];
        }

        return s.Length == Length && s.All(c => Alphabet.Contains(c)) ? s : null;
    }

    /// <summary>What the store keeps of a code: the hash API keys use (hex SHA-256).</summary>
    public static string HashOf(string canonical) => ApiKeys.ApiKeyService.HashOf(Prefix + "-" + canonical);
}
