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
}
