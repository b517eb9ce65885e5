namespace Portal.Organizations;

/// <summary>
/// What a member may do, each role including the ones before it: members use the organization's
/// credit through their own keys; admins also manage every key and the members; owners also billing and deletion.
/// </summary>
public enum OrganizationRole
{
    Member = 0,
    Admin = 1,
    Owner = 2,
}
