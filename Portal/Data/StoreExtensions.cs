using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

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
            .PostConfigure(options => options.ApplyPostgresDefaults())
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddDbContextFactory<SqlitePortalDbContext>((sp, options) =>
            options.UseSqlite(SqliteConnectionString(sp)).AddInterceptors(BusyWait));
        builder.Services.AddDbContextFactory<PostgresPortalDbContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<IOptions<StoreOptions>>().Value.ConnectionString!));

        builder.Services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp =>
            sp.GetRequiredService<IOptions<StoreOptions>>().Value.Provider switch
            {
                StoreProvider.Postgres => new Upcast<PostgresPortalDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresPortalDbContext>>()),
                _ => new Upcast<SqlitePortalDbContext>(sp.GetRequiredService<IDbContextFactory<SqlitePortalDbContext>>()),
            });
        builder.Services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
        // This process's lease, renewed while it serves: holds name it, so a dead instance's are known (ADR 20).
        builder.Services.AddSingleton<InstanceLeases>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InstanceLeases>());
        return builder;
    }

    /// <summary>Creates the data folder and applies pending migrations for the configured provider.</summary>
    public static async Task MigrateStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        if (options.Provider == StoreProvider.Sqlite)
        {
            Directory.CreateDirectory(DataFolderPath(options, services.GetRequiredService<IHostEnvironment>()));
        }

        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        if (options.Provider == StoreProvider.Postgres)
        {
            await MigrateSharedAsync(db, options.ConnectionString!, cancellationToken);
        }
        else
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        if (options.Provider == StoreProvider.Sqlite)
        {
            // Write-ahead logging lets readers work while a writer commits; the setting sticks to the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    /// <summary>
    /// Several instances may start at once on a new or older database: each would create the
    /// database and apply the same migrations, and all but one would fail on "already exists". So the
    /// database is created by whoever gets there first, and migrations are applied one instance at a
    /// time under an advisory lock; the next one finds nothing left to do.
    /// </summary>
    private static async Task MigrateSharedAsync(PortalDbContext db, string connectionString, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken))
        {
            try
            {
                await creator.CreateAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
            {
                // another instance created it a moment ago
            }
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLock})", connection))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        // The lock goes with the connection, whatever happens.
        await db.Database.MigrateAsync(cancellationToken);
    }

    private static readonly SqliteBusyWait BusyWait = new();

    // Any constant: the lock only matters between Portal instances on one database.
    private const long MigrationLock = 0x706f7274616c02; // "portal" 2

    private static string SqliteConnectionString(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return options.ConnectionString;
        }

        var file = Path.Combine(DataFolderPath(options, services.GetRequiredService<IHostEnvironment>()), "portal.db");
        // A busy timeout lets concurrent writers wait for the file lock instead of failing at once.
        return $"Data Source={file};Default Timeout=30";
    }

    /// <summary>The data folder's full path: the SQLite file and, by default, the key ring secret live there.</summary>
    internal static string DataFolderPath(StoreOptions options, IHostEnvironment environment) =>
        Path.GetFullPath(options.DataFolder, environment.ContentRootPath);

    private sealed class Upcast<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
