namespace Portal.RateLimits;

/// <summary>What a tokens-per-minute bucket said: as <see cref="RateDecision"/>, counted in tokens.</summary>
/// <param name="Reset">Until the bucket is full again (OpenAI's <c>x-ratelimit-reset-tokens</c>).</param>
/// <param name="RetryAfter">Until the refused request's tokens fit; zero when allowed.</param>
public readonly record struct TokenDecision(bool Allowed, int Limit, long Remaining, TimeSpan Reset, TimeSpan RetryAfter);

/// <summary>
/// A bucket of <c>limit</c> tokens refilled at <c>limit</c> per minute, kept as the request bucket is
/// (<see cref="RateBucket"/>): one number, the time it is full again (µs). A request of n tokens moves it
/// on by n minutes / limit; it fits while the bucket owes at most a minute. Measured in time, every
/// bucket holds the same minute whatever its limit, so one statement serves buckets of any limit, and
/// giving tokens back is moving the time back (ADR 33).
/// </summary>
public static class TokenBucket
{
    /// <summary>A full bucket, in µs: one minute.</summary>
    public const long Capacity = 60_000_000;

    /// <summary>The time <paramref name="tokens"/> take to refill at <paramref name="limit"/> per minute, in µs, rounded up.</summary>
    public static long Cost(long tokens, int limit) => (long)(((Int128)tokens * Capacity + limit - 1) / limit);

    /// <summary>When the bucket will be full after taking <paramref name="cost"/>, or null if that does not fit.</summary>
    public static long? Take(long cost, long fullAt, long now)
    {
        var next = Math.Max(fullAt, now) + cost;
        return next - now <= Capacity ? next : null;
    }

    /// <summary>The headers' view of a bucket that has just given a request its tokens and is full at <paramref name="fullAt"/>.</summary>
    public static TokenDecision Allowed(int limit, long fullAt, long now)
    {
        var debt = Math.Clamp(fullAt - now, 0, Capacity);
        return new TokenDecision(true, limit, Left(limit, debt), Micros(debt), TimeSpan.Zero);
    }

    /// <summary>The headers' view of a bucket that refused a request of <paramref name="cost"/>.</summary>
    public static TokenDecision Refused(int limit, long fullAt, long now, long cost)
    {
        // Refused means the request does not fit, whatever an older reading says.
        var debt = Math.Clamp(Math.Max(fullAt - now, Capacity - cost + 1), 0, Capacity);
        return new TokenDecision(false, limit, Left(limit, debt), Micros(debt), Micros(debt + cost - Capacity));
    }

    private static long Left(int limit, long debt) => (long)((Int128)(Capacity - debt) * limit / Capacity);

    private static TimeSpan Micros(long micros) => TimeSpan.FromTicks(micros * (TimeSpan.TicksPerMillisecond / 1000));
}
