namespace Portal.Catalog;

public static class CatalogExtensions
{
    /// <summary>The models, their prices and upstreams as the gateway reads them.</summary>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ModelCatalog>();
        return builder;
    }
}
