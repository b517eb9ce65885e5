using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Portal.Data;

public static class StoreExtensions
{
    /// <summary>
    /// Registers the store for the configured provider. Both provider contexts are registered and the
    /// choice is made when the store is first used, from validated <see cref="StoreOptions"/>, so a
    /// bad setting fails start-up with a message naming it rather than a half-configured context.
    /// </summary>
    public static IHostApplicationBuilder AddPortalStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StoreOptions>()
            .BindConfiguration(StoreOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddDbContextFactory<SqlitePortalDbContext>((sp, options) =>
            options.UseSqlite(SqliteConnectionString(sp)));
        builder.Services.AddDbContextFactory<PostgresPortalDbContext>((sp, options) =>
            options.UsePortalNpgsql(sp.GetRequiredService<IOptions<StoreOptions>>().Value.ConnectionString!));

        builder.Services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp =>
            sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider switch
            {
                StoreProvider.Postgres => new Upcast<PostgresPortalDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresPortalDbContext>>()),
                _ => new Upcast<SqlitePortalDbContext>(sp.GetRequiredService<IDbContextFactory<SqlitePortalDbContext>>()),
            });
        builder.Services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
        return builder;
    }

    /// <summary>Creates the data folder and applies pending migrations for the configured provider.</summary>
    public static async Task MigrateStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        if (options.Provider == StoreProvider.Sqlite)
        {
            Directory.CreateDirectory(DataFolderPath(services, options));
        }

        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        if (options.Provider == StoreProvider.Sqlite)
        {
            // Write-ahead logging lets readers work while a writer commits; the setting sticks to the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    private static string SqliteConnectionString(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return options.ConnectionString;
        }

        var file = Path.Combine(DataFolderPath(services, options), "portal.db");
        // A busy timeout lets concurrent writers wait for the file lock instead of failing at once.
        return $"Data Source={file};Default Timeout=30";
    }

    private static string DataFolderPath(IServiceProvider services, StoreOptions options) =>
        Path.GetFullPath(options.DataFolder, services.GetRequiredService<IHostEnvironment>().ContentRootPath);

    private sealed class Upcast<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
