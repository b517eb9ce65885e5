using Microsoft.AspNetCore.Http.HttpResults;
using Portal.Account;
using Portal.Catalog;
using Portal.Usage;

namespace Portal.Organizations;

public static class OrganizationsExtensions
{
    public const string CsvPattern = "/orgs/{id}/requests.csv";

    public static IHostApplicationBuilder AddOrganizations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrganizationService>();
        builder.Services.AddSingleton<OrganizationMembers>();
        return builder;
    }

    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder endpoints)
    {
        // The organization dashboard's CSV export: the signed-in user's cookie, and membership checked in the store.
        endpoints.MapGet(CsvPattern, ExportAsync).RequireAuthorization();
        return endpoints;
    }

    private static async Task<Results<EmptyHttpResult, ContentHttpResult, ForbidHttpResult, NotFound>> ExportAsync(
        HttpContext http, string id, [AsParameters] UsageEndpoints.ExportQuery query, OrganizationService organizations, UsageQueries usage,
        ModelCatalog catalog, CurrentUser currentUser)
    {
        if (currentUser.IdOf(http.User) is not { } userId)
        {
            return TypedResults.Forbid();
        }

        // Not a member and no such organization answer alike, so the address tells nothing about who exists.
        if (id.Length > 36 || await organizations.RoleOfAsync(userId, id, http.RequestAborted) is null)
        {
            return TypedResults.NotFound();
        }

        return (await UsageEndpoints.WriteCsvAsync(http, id, query, usage, catalog, "portal-organization-requests.csv")).Result switch
        {
            EmptyHttpResult empty => empty,
            ContentHttpResult content => content,
            var other => (ForbidHttpResult)other,
        };
    }
}
