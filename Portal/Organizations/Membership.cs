namespace Portal.Organizations;

/// <summary>One organization a user belongs to, with their role in it.</summary>
public sealed record Membership(string OrganizationId, string Name, OrganizationRole Role);
