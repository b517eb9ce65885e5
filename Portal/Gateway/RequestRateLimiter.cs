using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace Portal.Gateway;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Requests per minute per key, unless the key sets its own.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int DefaultRequestsPerMinute { get; set; } = 60;

    /// <summary>max_tokens when a request gives none (SPEC §2); capped at the model's maximum.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int DefaultMaxTokens { get; set; } = 8192;

    /// <summary>Seconds of upstream silence before a <c>: keep-alive</c> comment is sent on a stream.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>On shutdown, how long running completions may take to finish before they are settled as partial.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int ShutdownGraceSeconds { get; set; } = 25;

    /// <summary>
    /// How long a non-streaming request waits for its upstream's whole reply, when that is longer than
    /// the upstream's own timeout: a provider asked for one reply sends nothing until it has written
    /// it all (ADR 8). 600 s is what the OpenAI SDKs wait by default.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int NonStreamingReplySeconds { get; set; } = 600;

    /// <summary>
    /// On a shared (PostgreSQL) store, an unsettled credit hold older than this was left by an instance
    /// that died mid-request and is released by whichever instance sweeps next. Must exceed the longest
    /// request; on SQLite (one instance) every hold found at start-up is stale.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(10, 7 * 24 * 3600)]
    public int StaleHoldSeconds { get; set; } = 3600;
}

public readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, TimeSpan Reset, TimeSpan RetryAfter);

/// <summary>Takes one request from a key's allowance: in memory on one instance, in the store when several share it.</summary>
public interface IRateLimiter
{
    ValueTask<RateDecision> AcquireAsync(string keyId, int? perMinute, CancellationToken cancellationToken);
}

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

/// <summary>The rate limiter of a single instance (SQLite): each key's bucket in memory.</summary>
public sealed class RequestRateLimiter(TimeProvider time, IOptions<GatewayOptions> options) : IRateLimiter
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _fullAt = new(StringComparer.Ordinal);

    public ValueTask<RateDecision> AcquireAsync(string keyId, int? perMinute, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Acquire(keyId, perMinute));

    public RateDecision Acquire(string keyId, int? perMinute)
    {
        var limit = perMinute ?? options.Value.DefaultRequestsPerMinute;
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
