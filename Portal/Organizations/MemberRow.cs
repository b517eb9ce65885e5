using Portal.ApiKeys;

namespace Portal.Organizations;

/// <summary>A member of an organization as its members page lists them, with their budget that resets (null: none).</summary>
public sealed record MemberRow(string UserId, string Email, OrganizationRole Role, DateTime JoinedAt, KeyBudget? Budget = null);
