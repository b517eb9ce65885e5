using System.Text;
using QRCoder;

namespace Portal.Account;

/// <summary>
/// How an authenticator app learns a user's key: the key in groups of four (to type it in), and the
/// standard <c>otpauth://</c> URI as a QR code drawn as an SVG data URI, which the CSP's
/// <c>img-src data:</c> allows (ADR 11) — no script, no image endpoint.
/// </summary>
public static class AuthenticatorKey
{
    public const string Issuer = "Portal";

    /// <summary>The base32 key in lower-case groups of four; spaces and case don't matter to the apps.</summary>
    public static string Format(string key)
    {
        var grouped = new StringBuilder();
        for (var i = 0; i < key.Length; i += 4)
        {
            grouped.Append(grouped.Length == 0 ? "" : " ").Append(key.AsSpan(i, Math.Min(4, key.Length - i)));
        }

        return grouped.ToString().ToLowerInvariant();
    }

    /// <summary>The key URI format the authenticator apps read (Google's "Key Uri Format").</summary>
    public static string Uri(string email, string key) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(Issuer)}:{System.Uri.EscapeDataString(email)}?secret={key}&issuer={System.Uri.EscapeDataString(Issuer)}&digits=6";

    /// <summary>The URI as a QR code, an SVG image in a data URI.</summary>
    public static string QrCodeDataUri(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(data).GetGraphic(5);
        return "data:image/svg+xml;base64," + Convert.ToBase64String(Encoding.UTF8.GetBytes(svg));
    }
}
