namespace Portal.ApiKeys;

/// <summary>The key a request came with, as the gateway needs it.</summary>
public sealed record AuthenticatedKey(
    string KeyId,
    string UserId,
    string Name,
    string Prefix,
    string Last4,
    DateTime CreatedAt,
    DateTime? LastUsedAt,
    IReadOnlySet<string> AllowedModels,
    /// <summary>The limit enforced: the key's own or the default, at most <c>ApiKeys:MaxRequestsPerMinute</c>.</summary>
    int RequestsPerMinute,
    long? SpendCapMicros,
    long SpentMicros,
    /// <summary>Whether the key's owner has verified their email (see <c>Accounts:RequireConfirmedEmail</c>).</summary>
    bool OwnerEmailConfirmed = true,
    /// <summary>The key's budget that resets, if it has one (ADR 29).</summary>
    KeyBudget? Budget = null)
{
    /// <summary>The owner paused the key: it is known, but refused until resumed.</summary>
    public bool Paused { get; init; }

    /// <summary>The key's own tokens-per-minute limit on each model; null: each model's default applies (ADR 33).</summary>
    public int? TokensPerMinute { get; init; }

    public bool MayUse(string modelId) => AllowedModels.Count == 0 || AllowedModels.Contains(modelId);
}
