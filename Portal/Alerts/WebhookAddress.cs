using System.Net;
using System.Net.Sockets;

namespace Portal.Alerts;

/// <summary>
/// Which webhook URLs Portal posts to (ADR 26, docs/security.md). Outside Development: https only, and
/// never an address inside the network Portal runs in (loopback, private, link-local, unique-local,
/// carrier-grade NAT, multicast, unspecified), so a user cannot make Portal call its own admin ports or
/// a cloud metadata service. The name is checked when saved and the address again when connecting
/// (<see cref="WebhookSender"/>'s connect callback), so a name that later resolves inward is refused too.
/// </summary>
public static class WebhookAddress
{
    public const int MaxLength = 256;

    /// <summary>Why <paramref name="text"/> cannot be a webhook, or null with the parsed URL when it can.</summary>
    public static async Task<(Uri? Url, string? Problem)> CheckAsync(string? text, bool development, CancellationToken cancellationToken = default)
    {
        var typed = text?.Trim() ?? "";
        if (typed.Length == 0)
        {
            return (null, "Enter the URL Portal should post events to.");
        }

        if (typed.Length > MaxLength)
        {
            return (null, $"Webhook URLs are at most {MaxLength} characters.");
        }

        if (!Uri.TryCreate(typed, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || string.IsNullOrEmpty(url.Host))
        {
            return (null, "Enter a full URL, e.g. https://example.com/portal-events.");
        }

        if (url.Scheme != "https" && !development)
        {
            return (null, "Webhook URLs must start with https://.");
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return (null, "Leave the name and password out of the URL: check the Portal-Signature header instead.");
        }

        if (development)
        {
            return (url, null);
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return (null, $"The name {url.Host} does not resolve.");
        }

        return addresses.Length == 0 || addresses.Any(a => !IsPublic(a))
            ? (null, $"{url.Host} is an address inside Portal's own network (loopback or private); webhooks go to public addresses only.")
            : (url, null);
    }

    /// <summary>Whether <paramref name="address"/> is on the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (b[0] & 0xFE) == 0xFC);
        }

        var v4 = address.GetAddressBytes();
        return v4[0] switch
        {
            0 or 10 or 127 => false,
            >= 224 => false, // multicast and reserved
            100 => v4[1] is < 64 or > 127, // 100.64.0.0/10, carrier-grade NAT
            169 => v4[1] != 254, // link-local, where cloud metadata services answer
            172 => v4[1] is < 16 or > 31,
            192 => v4[1] != 168 && !(v4[1] == 0 && v4[2] == 0),
            198 => v4[1] is not (18 or 19), // benchmarking
            _ => true,
        };
    }
}
