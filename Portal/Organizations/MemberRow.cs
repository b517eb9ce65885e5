namespace Portal.Organizations;

/// <summary>A member of an organization as its members page lists them.</summary>
public sealed record MemberRow(string UserId, string Email, OrganizationRole Role, DateTime JoinedAt);
