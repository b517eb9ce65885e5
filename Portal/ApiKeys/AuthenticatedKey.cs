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

    /// <summary>The organization whose credit the key spends; null for a personal key (ADR 34). <see cref="UserId"/> is then the member who created it.</summary>
    public string? OrganizationId { get; init; }

    /// <summary>The account the key's requests are billed to and its usage is kept under: its organization, or its owner.</summary>
    public string AccountId => OrganizationId ?? UserId;

    /// <summary>On an organization's key, the member whose key it is, for the usage records; null on a personal key.</summary>
    public string? MemberId => OrganizationId is null ? null : UserId;

    /// <summary>On an organization's key, its member's budget that resets, shared by all their keys of the organization; null when none.</summary>
    public KeyBudget? MemberBudget { get; init; }

    public bool MayUse(string modelId) => AllowedModels.Count == 0 || AllowedModels.Contains(modelId);
}
