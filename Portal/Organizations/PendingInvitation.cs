namespace Portal.Organizations;

/// <summary>An invitation not yet accepted, revoked or expired, as the members page lists it.</summary>
public sealed record PendingInvitation(long Id, string Email, OrganizationRole Role, DateTime CreatedAt, DateTime ExpiresAt);
