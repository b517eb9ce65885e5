using Portal.ApiKeys;

namespace Portal.Billing;

/// <summary>Who pays for a completion: a key's owner, or a signed-in user in the playground (no key).</summary>
public sealed record Payer(string UserId, AuthenticatedKey? Key);
