using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Alerts;

/// <summary>
/// The <c>Portal-Signature</c> header (ADR 26, docs "Webhooks"): <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256&gt;</c>
/// of <c>"{t}.{body}"</c> keyed with the webhook's secret, the way Stripe signs, so a receiver can
/// check both who sent it and that it is fresh (a replay carries an old <c>t</c>).
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Portal-Signature";

    public static string Sign(string secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
