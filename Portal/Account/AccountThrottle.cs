using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Portal.Security;

namespace Portal.Account;

/// <summary>
/// Limits sign-in attempts per client address and per email, on top of Identity's lockout: the
/// lockout protects one account after repeated failures; this slows a client trying many accounts
/// (or many passwords on an unknown email, which has no lockout). Every attempt counts, so parallel
/// guesses can't slip past a check. Fixed one-minute windows, kept in memory per instance.
/// Sign-ups are limited per client address and hour: each one may come with welcome credits, and
/// a script creating accounts should not be able to farm them (or fill the store). Attempts to
/// redeem a code are limited per account and per address and hour, right or wrong (ADR 29).
/// </summary>
public sealed class AccountThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public AccountThrottle(IOptions<AccountOptions> options)
    {
        var limits = options.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => key[..key.IndexOf(':')] switch
        {
            "ip" => PerWindow(limits.LoginAttemptsPerMinutePerIp, TimeSpan.FromMinutes(1)),
            "email" => PerWindow(limits.LoginAttemptsPerMinutePerEmail, TimeSpan.FromMinutes(1)),
            "redeem-account" => PerWindow(limits.CodeRedemptionsPerHourPerAccount, TimeSpan.FromHours(1)),
            "redeem-ip" => PerWindow(limits.CodeRedemptionsPerHourPerIp, TimeSpan.FromHours(1)),
            _ => PerWindow(limits.SignUpsPerHourPerIp, TimeSpan.FromHours(1)),
        }));
    }

    /// <summary>Counts one sign-in attempt; false when the client or the email has used up this minute's.</summary>
    public bool TryAttemptSignIn(HttpContext http, string email)
    {
        using var byClient = _limiter.AttemptAcquire("ip:" + ClientAddress.Of(http));
        if (!byClient.IsAcquired)
        {
            return false;
        }

        using var byEmail = _limiter.AttemptAcquire("email:" + email.Trim().ToUpperInvariant());
        return byEmail.IsAcquired;
    }

    /// <summary>Counts one sign-up; false when the client has used up this hour's.</summary>
    public bool TryAttemptSignUp(HttpContext http)
    {
        using var lease = _limiter.AttemptAcquire("signup:" + ClientAddress.Of(http));
        return lease.IsAcquired;
    }

    /// <summary>Counts one attempt to redeem a code; false when the client or the account has used up this hour's.</summary>
    public bool TryAttemptRedeem(HttpContext http, string accountId)
    {
        using var byClient = _limiter.AttemptAcquire("redeem-ip:" + ClientAddress.Of(http));
        if (!byClient.IsAcquired)
        {
            return false;
        }

        using var byAccount = _limiter.AttemptAcquire("redeem-account:" + accountId);
        return byAccount.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();

    private static FixedWindowRateLimiterOptions PerWindow(int permits, TimeSpan window) =>
        new() { PermitLimit = permits, Window = window, QueueLimit = 0 };
}
