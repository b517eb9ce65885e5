namespace Portal.Docs;

public static class DocsExtensions
{
    /// <summary>The docs library: Markdown compiled into the assembly, each page rendered once.</summary>
    public static IHostApplicationBuilder AddDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DocsLibrary>();
        return builder;
    }
}
