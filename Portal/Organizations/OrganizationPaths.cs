namespace Portal.Organizations;

/// <summary>
/// Where an organization's pages live. The context (personal or which organization) is in the address,
/// not in hidden state (ADR 37): a link or a reload shows the same context, and two tabs can show two.
/// </summary>
public static class OrganizationPaths
{
    public const string Create = "/orgs/new";

    public static string Dashboard(string id) => $"/orgs/{id}";

    public static string Keys(string id) => $"/orgs/{id}/keys";

    public static string Members(string id) => $"/orgs/{id}/members";

    public static string Settings(string id) => $"/orgs/{id}/settings";

    public static string Csv(string id) => $"/orgs/{id}/requests.csv";

    /// <summary>
    /// The organization id an address is in the context of (<c>/orgs/{id}</c> and below), or null for a
    /// personal page. Only the shape is checked; whether the user belongs to it is each page's check.
    /// </summary>
    public static string? IdIn(string path)
    {
        var parts = path.Split('?', '#')[0].Trim('/').Split('/');
        return parts.Length >= 2 && parts[0] == "orgs" && Guid.TryParseExact(parts[1], "D", out _) ? parts[1] : null;
    }
}
