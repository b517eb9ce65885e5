using System.Globalization;
using Portal.ApiKeys;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.RateLimits;

/// <summary>A request's worst case taken from its key's bucket for its model, to be corrected at settlement (<see cref="TokenLimits.Settle"/>).</summary>
public sealed record TokenLease(string KeyId, string ModelId, int Limit, long Tokens);

/// <summary>What taking a request's tokens came to: a lease to settle, or the refusal to answer with; the headers' figures either way.</summary>
public readonly record struct TokenTake(TokenLease? Lease, ApiError? Refusal, TokenDecision? Decision);

/// <summary>
/// Tokens per minute (ADR 33): a key's limit on a model is the key's own if it has one, else the model's
/// default, else none. Each (key, model) has its own bucket. A request takes its worst case — the prompt
/// bound and max_tokens × n, as its credit hold does — when it is held; its settlement gives back what it
/// did not use, so the bucket counts what was really used.
/// </summary>
public sealed class TokenLimits(ITokenLimiter limiter)
{
    /// <summary>The most tokens per minute a key or a model may be given; keeps the bucket's arithmetic far from overflow.</summary>
    public const int Max = 1_000_000_000;

    public static int? LimitFor(AuthenticatedKey key, ModelInfo model) => key.TokensPerMinute ?? model.TokensPerMinute;

    /// <param name="worstCase">The request's prompt bound plus max_tokens × n.</param>
    public async ValueTask<TokenTake> TakeAsync(AuthenticatedKey key, ModelInfo model, long worstCase, int maxTokens, int n)
    {
        if (LimitFor(key, model) is not { } limit)
        {
            return default;
        }

        if (worstCase > limit)
        {
            // Waiting never helps: 400, naming what would fit, rather than a 429 clients retry in vain.
            var fits = (limit - (worstCase - (long)maxTokens * n)) / n;
            return new TokenTake(null, ApiError.InvalidRequest(
                $"This request may use up to {Count(worstCase)} tokens (its prompt plus max_tokens = {maxTokens}{(n > 1 ? $" × n = {n}" : "")}), " +
                $"more than this key's limit of {Count(limit)} tokens per minute (TPM) on '{model.Id}' allows at all. " +
                (fits >= 1 ? $"Lower max_tokens to at most {Count(fits)}." : "Shorten the prompt."), "max_tokens"), null);
        }

        var decision = await limiter.TakeAsync(key.KeyId, model.Id, limit, TokenBucket.Cost(worstCase, limit));
        return decision.Allowed
            ? new TokenTake(new TokenLease(key.KeyId, model.Id, limit, worstCase), null, decision)
            : new TokenTake(null, ApiError.TokensRateLimited(decision.RetryAfter, limit, model.Id, worstCase, decision.Remaining), decision);
    }

    /// <summary>Gives back the part of the lease's worst case the request did not use (all of it when it used none).</summary>
    public void Settle(TokenLease lease, long used)
    {
        var unused = TokenBucket.Cost(lease.Tokens, lease.Limit) - TokenBucket.Cost(Math.Clamp(used, 0, lease.Tokens), lease.Limit);
        limiter.GiveBack(lease.KeyId, lease.ModelId, unused);
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>OpenAI's <c>x-ratelimit-*-tokens</c> headers, set before the reply starts.</summary>
    public static void WriteHeaders(HttpResponse response, TokenDecision decision)
    {
        if (response.HasStarted)
        {
            return;
        }

        var headers = response.Headers;
        headers["x-ratelimit-limit-tokens"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-tokens"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-tokens"] = RateLimitExtensions.FormatDuration(decision.Reset);
    }
}
