using Portal.Audit;

namespace Portal.Organizations;

/// <summary>
/// An organization page's context, read from the store when it opened: which organization, the
/// signed-in member and their role. It decides what the page offers; every action is checked again
/// by the service when it runs.
/// </summary>
public sealed record OrganizationView(string Id, string Name, OrganizationRole Role, string UserId, AuditActor Actor)
{
    public bool IsAdmin => Role >= OrganizationRole.Admin;

    public bool IsOwner => Role == OrganizationRole.Owner;
}
