using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Gateway;

namespace Portal.ApiKeys;

/// <summary>
/// Finds the live key for a bearer token. Answers are cached for at most one second (the rule of
/// <see cref="StoreSnapshot{T}"/>, per key and without waiting for another reader's load), so a
/// revocation, pause, expiry or edit takes effect within a second on every instance. A paused key is
/// found, marked <see cref="AuthenticatedKey.Paused"/>, so its caller can be told why it is refused.
/// </summary>
public sealed class ApiKeyResolver(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, IOptions<ApiKeyOptions> options,
    IOptions<GatewayOptions> gateway)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private const int MaxCached = 10_000;
    private readonly ConcurrentDictionary<string, Loaded<AuthenticatedKey?>> _cache = new(StringComparer.Ordinal);

    public async ValueTask<AuthenticatedKey?> ResolveAsync(string plaintext, CancellationToken cancellationToken = default)
    {
        if (!ApiKeyService.LooksLikeKey(plaintext))
        {
            return null;
        }

        var hash = ApiKeyService.HashOf(plaintext);
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(hash, out var entry) || !entry.IsFreshAt(now, MaxAge))
        {
            entry = new Loaded<AuthenticatedKey?>(await LoadAsync(hash, now.UtcDateTime, cancellationToken), now);
            if (_cache.Count >= MaxCached)
            {
                _cache.Clear(); // bounded: a flood of made-up keys must not grow memory
            }

            _cache[hash] = entry;
        }

        return entry.Value;
    }

    private async Task<AuthenticatedKey?> LoadAsync(string hash, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // The owner's verification comes along in the same query (one round trip per key and second).
        var found = await db.ApiKeys.AsNoTracking().Where(k => k.Hash == hash)
            .Join(db.Users, k => k.UserId, u => u.Id, (k, u) => new { Key = k, u.EmailConfirmed })
            .FirstOrDefaultAsync(cancellationToken);
        var key = found?.Key;
        // The index finds the row; the comparison that decides is constant-time.
        if (key is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key.Hash), Encoding.ASCII.GetBytes(hash))
            || key.RevokedAt is not null
            || key.ExpiresAt <= now)
        {
            return null;
        }

        if (key.PausedAt is null && (key.LastUsedAt is null || now - key.LastUsedAt >= LastUsedResolution))
        {
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
            key.LastUsedAt = now;
        }

        // An organization key's member budget: a second indexed read, only for organization keys.
        var memberBudget = key.OrganizationId is null ? null
            : await db.OrganizationMembers.AsNoTracking().Where(m => m.OrganizationId == key.OrganizationId && m.UserId == key.UserId)
                .Select(m => KeyBudget.Of(m.BudgetPeriod, m.BudgetMicros, m.BudgetTimeZone)).FirstOrDefaultAsync(cancellationToken);
        return new AuthenticatedKey(key.Id, key.UserId, key.Name, key.Prefix, key.Last4, key.CreatedAt, key.LastUsedAt,
            key.AllowedModels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
            options.Value.RequestsPerMinuteFor(key.RateLimitPerMinute, gateway.Value.DefaultRequestsPerMinute), key.SpendCapMicros, key.SpentMicros,
            found!.EmailConfirmed, key.Budget)
        {
            Paused = key.PausedAt is not null,
            TokensPerMinute = key.TokensPerMinute,
            OrganizationId = key.OrganizationId,
            MemberBudget = memberBudget,
        };
    }
}
