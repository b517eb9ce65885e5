using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Portal.Security;

namespace Portal.ApiKeys;

/// <summary>
/// Counts the invalid keys each client address presents, in fixed one-minute windows kept in memory
/// per instance. Only failures count, so a client with a valid key is never slowed by its own
/// traffic; a client that has used up its allowance is refused before its key is looked up.
/// </summary>
public sealed class InvalidKeyThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public InvalidKeyThrottle(IOptions<ApiKeyOptions> options)
    {
        var permits = options.Value.InvalidKeysPerMinutePerAddress;
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>Null while the client may present keys; otherwise how long until it may again.</summary>
    public TimeSpan? Refusal(HttpContext http)
    {
        // Zero permits asks without taking one.
        using var lease = _limiter.AttemptAcquire(ClientAddress.Of(http), permitCount: 0);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
    }

    /// <summary>Counts one invalid key presented by the client.</summary>
    public void Failed(HttpContext http)
    {
        using var _ = _limiter.AttemptAcquire(ClientAddress.Of(http));
    }

    public void Dispose() => _limiter.Dispose();
}
