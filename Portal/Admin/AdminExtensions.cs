using Portal.Audit;

namespace Portal.Admin;

public static class AdminExtensions
{
    /// <summary>The admin editors' services, the role check they all go through, and the audit log.</summary>
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditLog>();
        // Scoped: in a circuit it reads that circuit's user, on every action.
        builder.Services.AddScoped<AdminGuard>();
        builder.Services.AddSingleton<UserAdmin>();
        builder.Services.AddSingleton<OrganizationAdmin>();
        builder.Services.AddSingleton<CatalogAdmin>();
        builder.Services.AddSingleton<UpstreamAdmin>();
        builder.Services.AddSingleton<ServiceAdmin>();
        builder.Services.AddSingleton<UpstreamConnectionTest>();
        // Its own client: the test must not wait behind (or share handlers with) the gateway's streams.
        builder.Services.AddHttpClient(UpstreamConnectionTest.HttpClientName, client => client.Timeout = UpstreamConnectionTest.Timeout * 2);
        return builder;
    }
}
