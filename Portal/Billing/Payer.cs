using Portal.ApiKeys;

namespace Portal.Billing;

/// <summary>
/// Who pays for a completion: the account of a key (its organization, or its owner), or a signed-in user
/// in the playground (no key). <see cref="UserId"/> is that account's id, which the ledger is keyed by (ADR 34).
/// </summary>
public sealed record Payer(string UserId, AuthenticatedKey? Key);
