namespace Portal.Organizations;

public static class OrganizationsExtensions
{
    public static IHostApplicationBuilder AddOrganizations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrganizationService>();
        builder.Services.AddSingleton<OrganizationMembers>();
        return builder;
    }
}
