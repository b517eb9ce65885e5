namespace Portal.RateLimits;

public readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, TimeSpan Reset, TimeSpan RetryAfter);

/// <summary>Takes one request from a key's allowance: in memory on one instance, in the store when several share it.</summary>
public interface IRateLimiter
{
    /// <param name="limit">Requests per minute: the key's limit as enforced (<see cref="ApiKeys.AuthenticatedKey.RequestsPerMinute"/>).</param>
    ValueTask<RateDecision> AcquireAsync(string keyId, int limit, CancellationToken cancellationToken);
}
