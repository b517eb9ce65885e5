using Portal.Data;

namespace Portal.Tests.Store;

/// <summary>
/// The store tests on a real PostgreSQL, each in its own new database. They prove the Npgsql
/// compatibility layer (Portal/Data/NpgsqlCompat.cs) end to end; each test is redeclared here only
/// to mark it <see cref="PostgresFactAttribute"/>.
/// </summary>
public sealed class PostgresStoreTests : StoreTests
{
    private PostgresTestDatabase? _database;

    protected override Type ContextType => typeof(PostgresPortalDbContext);

    public override Task InitializeAsync()
    {
        _database = new PostgresTestDatabase();
        return base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    protected override IReadOnlyDictionary<string, string?> StoreSettings() => new Dictionary<string, string?>
    {
        ["Store:Provider"] = "Postgres",
        ["Store:ConnectionString"] = _database!.ConnectionString,
    };

    [PostgresFact]
    public override Task StartUpAppliesEveryMigrationOfTheConfiguredProvider() => base.StartUpAppliesEveryMigrationOfTheConfiguredProvider();

    [PostgresFact]
    public override Task TheProvidersMigrationsMatchTheModel() => base.TheProvidersMigrationsMatchTheModel();

    [PostgresFact]
    public override Task TheAdminRoleExistsAfterMigration() => base.TheAdminRoleExistsAfterMigration();

    [PostgresFact]
    public override Task AUserRoundTripsThroughUserManagerWithItsRoleAndLockout() => base.AUserRoundTripsThroughUserManagerWithItsRoleAndLockout();

    [PostgresFact]
    public override Task SignUpAndSignInWorkEndToEnd() => base.SignUpAndSignInWorkEndToEnd();
}
