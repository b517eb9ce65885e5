namespace Portal.Organizations;

public static class OrganizationsExtensions
{
    public static IHostApplicationBuilder AddOrganizations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrganizationService>();
        return builder;
    }
}
