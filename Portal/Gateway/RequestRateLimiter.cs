using System.Collections.Concurrent;
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
}

public readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, TimeSpan Reset, TimeSpan RetryAfter);

/// <summary>
/// Per-key token bucket: <c>limit</c> requests per minute, refilled continuously, so a key may burst
/// up to its limit and then gets one request every 60/limit seconds.
/// </summary>
public sealed class RequestRateLimiter(TimeProvider time, IOptions<GatewayOptions> options)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public RateDecision Acquire(string keyId, int? perMinute)
    {
        var limit = perMinute ?? options.Value.DefaultRequestsPerMinute;
        var bucket = _buckets.GetOrAdd(keyId, static _ => new Bucket());
        var now = time.GetTimestamp();
        var perSecond = limit / 60.0;
        lock (bucket)
        {
            if (bucket.Limit != limit)
            {
                bucket.Limit = limit;
                bucket.Tokens = limit;
                bucket.Stamp = now;
            }

            bucket.Tokens = Math.Min(limit, bucket.Tokens + time.GetElapsedTime(bucket.Stamp, now).TotalSeconds * perSecond);
            bucket.Stamp = now;
            var allowed = bucket.Tokens >= 1;
            if (allowed)
            {
                bucket.Tokens -= 1;
            }

            var reset = TimeSpan.FromSeconds((limit - bucket.Tokens) / perSecond);
            var retryAfter = allowed ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - bucket.Tokens) / perSecond);
            return new RateDecision(allowed, limit, (int)Math.Floor(bucket.Tokens), reset, retryAfter);
        }
    }

    private sealed class Bucket
    {
        public int Limit;
        public double Tokens;
        public long Stamp;
    }
}
