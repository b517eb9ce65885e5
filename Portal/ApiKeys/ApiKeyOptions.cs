namespace Portal.ApiKeys;

/// <summary>Bound from the <c>ApiKeys</c> section.</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "ApiKeys";

    /// <summary>
    /// Unknown, revoked or expired keys one client address may present per minute. Past that its
    /// requests are refused (429) before any key is looked up: each new made-up key would otherwise
    /// cost a query of the store.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int InvalidKeysPerMinutePerAddress { get; set; } = 30;

    /// <summary>
    /// The most requests per minute a key may be given. Each request, even a refused one, costs the
    /// store some work, so a user must not choose an unbounded rate; a key stored with more (before
    /// this ceiling was set or lowered) is limited at the ceiling. At least
    /// <c>Gateway:DefaultRequestsPerMinute</c>, which applies to keys that set no limit.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int MaxRequestsPerMinute { get; set; } = 600;

    /// <summary>A key's limit as enforced: its own or the default, never above the ceiling.</summary>
    public int RequestsPerMinuteFor(int? keysOwn, int defaultRequestsPerMinute) =>
        Math.Min(keysOwn ?? defaultRequestsPerMinute, MaxRequestsPerMinute);
}
