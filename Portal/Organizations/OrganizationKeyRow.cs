using Portal.ApiKeys;

namespace Portal.Organizations;

/// <summary>An organization's key as its members see it: the key and the member who made it.</summary>
public sealed record OrganizationKeyRow(ApiKey Key, string MemberEmail);
