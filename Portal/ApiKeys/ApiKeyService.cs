using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Data;
using Portal.Organizations;

namespace Portal.ApiKeys;

public sealed record NewApiKey(string Name, DateTime? ExpiresAt = null, long? SpendCapMicros = null,
    IReadOnlyList<string>? AllowedModels = null, int? RateLimitPerMinute = null, KeyBudget? Budget = null, int? TokensPerMinute = null);

public sealed record KeyPage(IReadOnlyList<ApiKey> Keys, int Total);

/// <summary>The orders a user can list their keys in.</summary>
public enum KeyOrder
{
    Created,
    Name,
    LastUsed,
    Spent,
}

/// <summary>
/// Creates, lists and revokes a user's own keys (an organization's keys are managed through
/// <see cref="Organizations.OrganizationService"/>, which checks the member's role first). The plaintext exists
/// only in the return value of <see cref="CreateAsync"/>.
/// </summary>
public sealed class ApiKeyService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, IOptions<ApiKeyOptions> options, AuditLog audit)
{
    public const string KeyPrefix = "sk-portal-";
    private const int RandomLength = 40;
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <exception cref="ArgumentOutOfRangeException">The request asks for more requests per minute than <c>ApiKeys:MaxRequestsPerMinute</c> allows.</exception>
    /// <param name="organizationId">The organization whose key it is (the caller has checked the user may make one there); null: the user's own key.</param>
    public async Task<(ApiKey Key, string Plaintext)> CreateAsync(string userId, NewApiKey request, CancellationToken cancellationToken = default,
        string? organizationId = null)
    {
        // The form and the CLI say so in their own words first; this guards every other caller.
        var ceiling = options.Value.MaxRequestsPerMinute;
        if (request.RateLimitPerMinute is { } rate && (rate < KeyForm.MinRateLimit || rate > ceiling))
        {
            throw new ArgumentOutOfRangeException(nameof(request), rate,
                $"A key's request limit must be from {KeyForm.MinRateLimit} to {ceiling} per minute (ApiKeys:MaxRequestsPerMinute).");
        }

        if (request.TokensPerMinute is { } tokens && tokens is < 1 or > RateLimits.TokenLimits.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(request), tokens,
                $"A key's tokens-per-minute limit must be from 1 to {RateLimits.TokenLimits.Max}.");
        }

        var plaintext = KeyPrefix + RandomNumberGenerator.GetString(Base62, RandomLength);
        var key = new ApiKey
        {
            Id = Guid.NewGuid().ToString(),
            UserId = userId,
            OrganizationId = organizationId,
            Name = request.Name.Trim(),
            Hash = HashOf(plaintext),
            Prefix = plaintext[..(KeyPrefix.Length + 4)],
            Last4 = plaintext[^4..],
            CreatedAt = time.GetUtcNow().UtcDateTime,
            ExpiresAt = request.ExpiresAt,
            SpendCapMicros = request.SpendCapMicros,
            AllowedModels = string.Join(',', request.AllowedModels ?? []),
            RateLimitPerMinute = request.RateLimitPerMinute,
            TokensPerMinute = request.TokensPerMinute,
            BudgetPeriod = request.Budget?.Period ?? BudgetPeriod.None,
            BudgetMicros = request.Budget?.AmountMicros,
            BudgetTimeZone = request.Budget?.TimeZone,
        };

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return (key, plaintext);
    }

    /// <summary>
    /// One page of the user's keys and how many they have in all; newest first unless another order is
    /// asked for. Keys never used sort after the used ones whichever the direction.
    /// </summary>
    public async Task<KeyPage> ListAsync(string userId, int skip, int take, KeyOrder order = KeyOrder.Created, bool descending = true,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId && k.OrganizationId == null);
        var total = await mine.CountAsync(cancellationToken);
        var ordered = order switch
        {
            KeyOrder.Name => descending ? mine.OrderByDescending(k => k.Name) : mine.OrderBy(k => k.Name),
            KeyOrder.LastUsed => descending
                ? mine.OrderBy(k => k.LastUsedAt == null).ThenByDescending(k => k.LastUsedAt)
                : mine.OrderBy(k => k.LastUsedAt == null).ThenBy(k => k.LastUsedAt),
            KeyOrder.Spent => descending ? mine.OrderByDescending(k => k.SpentMicros) : mine.OrderBy(k => k.SpentMicros),
            _ => descending ? mine.OrderByDescending(k => k.CreatedAt) : mine.OrderBy(k => k.CreatedAt),
        };
        // Ties (same name, never used, nothing spent) keep a stable order from page to page.
        var keys = await ordered.ThenByDescending(k => k.CreatedAt).ThenBy(k => k.Id)
            .Skip(skip).Take(take).ToListAsync(cancellationToken);
        return new KeyPage(keys, total);
    }

    /// <summary>How many keys the user has, live or not.</summary>
    public async Task<int> CountAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys.CountAsync(k => k.UserId == userId && k.OrganizationId == null, cancellationToken);
    }

    /// <summary>Revokes one of the user's keys; false when the user has no such live key.</summary>
    public async Task<bool> RevokeAsync(string userId, string keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.ApiKeys
            .Where(k => k.Id == keyId && k.UserId == userId && k.OrganizationId == null && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken) == 1;
    }

    /// <summary>Pauses one of the user's live keys; false when the user has no such active key.</summary>
    public async Task<bool> PauseAsync(string userId, string keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.ApiKeys
            .Where(k => k.Id == keyId && k.UserId == userId && k.OrganizationId == null && k.RevokedAt == null && k.PausedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.PausedAt, now), cancellationToken) == 1;
    }

    /// <summary>Resumes one of the user's paused keys; false when the user has no such paused key.</summary>
    public async Task<bool> ResumeAsync(string userId, string keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApiKeys
            .Where(k => k.Id == keyId && k.UserId == userId && k.OrganizationId == null && k.RevokedAt == null && k.PausedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.PausedAt, (DateTime?)null), cancellationToken) == 1;
    }

    /// <summary>
    /// Sets, changes or (with null) removes a live key's budget that resets (ADR 29), and its time zone. A
    /// personal key's owner may; an organization key's maker while still a member, or the organization's
    /// admins and owners — checked in the statement that changes it. Another period or time zone starts a
    /// fresh period; a new amount keeps what the period has spent, so an amount below it stops the key
    /// until the period ends. Audited (<c>key.budget_set</c>) in the key's account's log.
    /// </summary>
    public async Task<BudgetChange> SetBudgetAsync(AuditActor actor, string keyId, KeyBudget? budget, CancellationToken cancellationToken = default)
    {
        if (budget is { } wanted && KeyBudget.Problem(wanted) is { } problem)
        {
            return new BudgetChange(false, problem + " Nothing was changed.");
        }

        var userId = actor.UserId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var key = await db.ApiKeys.AsNoTracking().Where(k => k.Id == keyId && k.RevokedAt == null).FirstOrDefaultAsync(cancellationToken);
        if (userId is null || key is null)
        {
            return BudgetChange.NotAllowed;
        }

        var fresh = KeyBudget.StartsAfresh(key.Budget, budget);
        var changed = await db.ApiKeys
            .Where(k => k.Id == keyId && k.RevokedAt == null
                && (k.OrganizationId == null
                    ? k.UserId == userId
                    : db.OrganizationMembers.Any(m => m.OrganizationId == k.OrganizationId && m.UserId == userId
                        && (m.Role != OrganizationRole.Member || k.UserId == userId))))
            .ExecuteUpdateAsync(s => s
                .SetProperty(k => k.BudgetPeriod, budget?.Period ?? BudgetPeriod.None)
                .SetProperty(k => k.BudgetMicros, budget?.AmountMicros)
                .SetProperty(k => k.BudgetTimeZone, budget?.TimeZone)
                .SetProperty(k => k.BudgetPeriodStart, k => fresh ? 0L : k.BudgetPeriodStart)
                .SetProperty(k => k.BudgetSpentMicros, k => fresh ? 0L : k.BudgetSpentMicros), cancellationToken);
        if (changed != 1)
        {
            return BudgetChange.NotAllowed;
        }

        var target = key.OrganizationId is { } organizationId ? OrganizationService.TargetOf(organizationId) : Account.AccountAudit.TargetOf(key.UserId);
        await audit.AppendAsync(db, actor, AuditActions.KeyBudgetSet, target,
            new { key = keyId, from = key.Budget?.ToString(), to = budget?.ToString() }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new BudgetChange(true, budget is { } set
            ? $"The key's budget is now {set}{(fresh ? "; a fresh period starts now" : "")}."
            : "The key's budget was removed.");
    }

    public static string HashOf(string plaintext) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(plaintext))).ToLowerInvariant();

    /// <summary>Cheap shape check before any lookup: prefix plus at least 32 base62 characters.</summary>
    public static bool LooksLikeKey(ReadOnlySpan<char> candidate)
    {
        if (!candidate.StartsWith(KeyPrefix, StringComparison.Ordinal) || candidate.Length < KeyPrefix.Length + 32 || candidate.Length > 256)
        {
            return false;
        }

        foreach (var c in candidate[KeyPrefix.Length..])
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
