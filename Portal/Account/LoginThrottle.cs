using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Portal.Account;

/// <summary>
/// Limits sign-in attempts per client address and per email, on top of Identity's lockout: the
/// lockout protects one account after repeated failures; this slows a client trying many accounts
/// (or many passwords on an unknown email, which has no lockout). Every attempt counts, so parallel
/// guesses can't slip past a check. Fixed one-minute windows, kept in memory per instance.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public LoginThrottle(IOptions<AccountOptions> options)
    {
        var (perIp, perEmail) = (options.Value.LoginAttemptsPerMinutePerIp, options.Value.LoginAttemptsPerMinutePerEmail);
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = key.StartsWith("ip:", StringComparison.Ordinal) ? perIp : perEmail,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
    }

    /// <summary>Counts one attempt; false when the client or the email has used up this minute's.</summary>
    public bool TryAttempt(HttpContext http, string email)
    {
        using var byClient = _limiter.AttemptAcquire("ip:" + ClientAddress(http));
        if (!byClient.IsAcquired)
        {
            return false;
        }

        using var byEmail = _limiter.AttemptAcquire("email:" + email.Trim().ToUpperInvariant());
        return byEmail.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();

    /// <summary>
    /// The client's address: behind nginx, the one it forwarded (Portal.Security.ReverseProxy has
    /// already put it in place, believing only a proxy it knows). An IPv6 client counts by its /64:
    /// one line or server is given a whole /64, so a new address in it costs nothing.
    /// </summary>
    private static string ClientAddress(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
