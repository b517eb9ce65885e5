namespace Portal.RateLimits;

/// <summary>
/// A token bucket of <c>limit</c> requests refilled at <c>limit</c> per minute, kept as one number per
/// key: the time at which the bucket will be full again (the "generic cell rate algorithm"). A key may
/// burst up to its limit, then gets one request every 60/limit seconds. One number makes the shared
/// (PostgreSQL) bucket a single conditional UPDATE, and both limiters answer with the same headers.
/// </summary>
public static class RateBucket
{
    /// <summary>Microseconds between two requests at the steady rate.</summary>
    public static long Interval(int limit) => 60_000_000L / limit;

    /// <summary>When the bucket will be full after taking one request, or null if it holds none.</summary>
    public static long? Take(int limit, long fullAt, long now)
    {
        var next = Math.Max(fullAt, now) + Interval(limit);
        return next - now <= limit * Interval(limit) ? next : null;
    }

    /// <summary>The headers' view of a bucket that has just given a request and is full at <paramref name="fullAt"/>.</summary>
    public static RateDecision Allowed(int limit, long fullAt, long now)
    {
        var debt = Math.Max(0, fullAt - now);
        return new RateDecision(true, limit, (int)Math.Max(0, (limit * Interval(limit) - debt) / Interval(limit)),
            Micros(debt), TimeSpan.Zero);
    }

    /// <summary>The headers' view of a bucket that refused a request; <paramref name="fullAt"/> may be a moment old.</summary>
    public static RateDecision Refused(int limit, long? fullAt, long now)
    {
        // Refused means less than one request is left, whatever an older reading says.
        var debt = Math.Max(fullAt is { } at ? at - now : 0, (limit - 1) * Interval(limit) + 1);
        return new RateDecision(false, limit, 0, Micros(debt), Micros(debt - (limit - 1) * Interval(limit)));
    }

    private static TimeSpan Micros(long micros) => TimeSpan.FromTicks(micros * (TimeSpan.TicksPerMillisecond / 1000));
}
