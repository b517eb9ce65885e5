using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.Internal;
using Npgsql.EntityFrameworkCore.PostgreSQL.Migrations.Internal;
using Npgsql.EntityFrameworkCore.PostgreSQL.Storage.Internal;

namespace Portal.Data;

#pragma warning disable EF1001 // Internal EF/Npgsql APIs: this file exists to patch them.

/// <summary>
/// Why this file exists: the registry here serves Npgsql.EntityFrameworkCore.PostgreSQL 8.0.0 but
/// only Npgsql 9.0.3, a mixed-major pair its maintainers do not support (npgsql/npgsql#5987).
/// Two things break and are patched here, and nothing else:
/// <list type="bullet">
/// <item>building the type-mapping source reflects on <c>Npgsql.Internal.HackyEnumTypeMapping</c>,
/// which Npgsql 9 changed (TypeLoadException) → user-defined (enum) type mappings are not loaded,
/// so PostgreSQL enums via <c>MapEnum</c> must not be used;</item>
/// <item><c>EnsureCreatedAsync</c>/<c>MigrateAsync</c> call <c>NpgsqlConnection.ReloadTypesAsync()</c>,
/// whose signature changed (MissingMethodException) → the async paths run the sync ones.</item>
/// </list>
/// Delete this file on the move to .NET 10 with Npgsql.EntityFrameworkCore.PostgreSQL 10.
/// </summary>
public static class NpgsqlCompat
{
    public static DbContextOptionsBuilder UsePortalNpgsql(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString)
            .ReplaceService<IRelationalTypeMappingSource, CompatTypeMappingSource>()
            .ReplaceService<IRelationalDatabaseCreator, CompatDatabaseCreator>()
            .ReplaceService<IMigrator, CompatMigrator>();

    private sealed class CompatTypeMappingSource(
        TypeMappingSourceDependencies dependencies,
        RelationalTypeMappingSourceDependencies relationalDependencies,
        ISqlGenerationHelper sqlGenerationHelper,
        INpgsqlSingletonOptions options)
        : NpgsqlTypeMappingSource(dependencies, relationalDependencies, sqlGenerationHelper, options)
    {
        public override void LoadUserDefinedTypeMappings(ISqlGenerationHelper sqlGenerationHelper, NpgsqlDataSource? dataSource)
        {
        }
    }

    private sealed class CompatDatabaseCreator(
        RelationalDatabaseCreatorDependencies dependencies,
        INpgsqlRelationalConnection connection,
        IRawSqlCommandBuilder rawSqlCommandBuilder)
        : NpgsqlDatabaseCreator(dependencies, connection, rawSqlCommandBuilder)
    {
        public override Task CreateAsync(CancellationToken cancellationToken = default)
        {
            Create();
            return Task.CompletedTask;
        }

        public override Task<bool> ExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Exists());

        public override Task<bool> HasTablesAsync(CancellationToken cancellationToken = default) => Task.FromResult(HasTables());

        public override Task CreateTablesAsync(CancellationToken cancellationToken = default)
        {
            CreateTables();
            return Task.CompletedTask;
        }
    }

    private sealed class CompatMigrator(
        IMigrationsAssembly migrationsAssembly,
        IHistoryRepository historyRepository,
        IDatabaseCreator databaseCreator,
        IMigrationsSqlGenerator migrationsSqlGenerator,
        IRawSqlCommandBuilder rawSqlCommandBuilder,
        IMigrationCommandExecutor migrationCommandExecutor,
        IRelationalConnection connection,
        ISqlGenerationHelper sqlGenerationHelper,
        ICurrentDbContext currentContext,
        IModelRuntimeInitializer modelRuntimeInitializer,
        IDiagnosticsLogger<DbLoggerCategory.Migrations> logger,
        IRelationalCommandDiagnosticsLogger commandLogger,
        IDatabaseProvider databaseProvider)
        : NpgsqlMigrator(migrationsAssembly, historyRepository, databaseCreator, migrationsSqlGenerator, rawSqlCommandBuilder,
            migrationCommandExecutor, connection, sqlGenerationHelper, currentContext, modelRuntimeInitializer, logger,
            commandLogger, databaseProvider)
    {
        public override Task MigrateAsync(string? targetMigration = null, CancellationToken cancellationToken = default)
        {
            Migrate(targetMigration);
            return Task.CompletedTask;
        }
    }
}
