using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Portal.RateLimits;

/// <summary>The tokens-per-minute limiter of a single instance (SQLite): each bucket in memory.</summary>
public sealed class TokenRateLimiter(TimeProvider time) : ITokenLimiter
{
    private readonly ConcurrentDictionary<(string KeyId, string ModelId), StrongBox<long>> _fullAt = new();

    public ValueTask<TokenDecision> TakeAsync(string keyId, string modelId, int limit, long cost) =>
        ValueTask.FromResult(Take(keyId, modelId, limit, cost));

    public TokenDecision Take(string keyId, string modelId, int limit, long cost)
    {
        var fullAt = _fullAt.GetOrAdd((keyId, modelId), static _ => new StrongBox<long>(long.MinValue / 2));
        var now = Now();
        lock (fullAt)
        {
            if (TokenBucket.Take(cost, fullAt.Value, now) is { } next)
            {
                fullAt.Value = next;
                return TokenBucket.Allowed(limit, next, now);
            }

            return TokenBucket.Refused(limit, fullAt.Value, now, cost);
        }
    }

    public void GiveBack(string keyId, string modelId, long cost)
    {
        if (cost > 0 && _fullAt.TryGetValue((keyId, modelId), out var fullAt))
        {
            lock (fullAt)
            {
                // Never further back than full: a bucket does not bank what it could not hold.
                fullAt.Value = Math.Max(fullAt.Value - cost, Now());
            }
        }
    }

    // Monotonic time: a wall-clock step must not refill or drain a bucket.
    private long Now() => (long)((Int128)time.GetTimestamp() * 1_000_000 / time.TimestampFrequency);
}
