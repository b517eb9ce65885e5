namespace Portal.RateLimits;

/// <summary>
/// Each key's tokens-per-minute buckets, one per key and model: in memory on one instance, in the store
/// when several share it (ADR 33).
/// </summary>
public interface ITokenLimiter
{
    /// <summary>Takes a request's worst case, <see cref="TokenBucket.Cost"/> µs, from the bucket, if it fits.</summary>
    /// <param name="limit">The tokens per minute enforced (<see cref="TokenLimits.LimitFor"/>).</param>
    ValueTask<TokenDecision> TakeAsync(string keyId, string modelId, int limit, long cost);

    /// <summary>Gives back what a request held and did not use, µs; the bucket never holds more than full.</summary>
    void GiveBack(string keyId, string modelId, long cost);
}
