using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Portal.RateLimits;

/// <summary>The rate limiter of a single instance (SQLite): each key's bucket in memory.</summary>
public sealed class RequestRateLimiter(TimeProvider time) : IRateLimiter
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _fullAt = new(StringComparer.Ordinal);

    public ValueTask<RateDecision> AcquireAsync(string keyId, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Acquire(keyId, limit));

    public RateDecision Acquire(string keyId, int limit)
    {
        var fullAt = _fullAt.GetOrAdd(keyId, static _ => new StrongBox<long>(long.MinValue));
        // Monotonic time: a wall-clock step must not refill or drain a bucket.
        var now = (long)((Int128)time.GetTimestamp() * 1_000_000 / time.TimestampFrequency);
        lock (fullAt)
        {
            if (RateBucket.Take(limit, fullAt.Value, now) is { } next)
            {
                fullAt.Value = next;
                return RateBucket.Allowed(limit, next, now);
            }

            return RateBucket.Refused(limit, fullAt.Value, now);
        }
    }
}
