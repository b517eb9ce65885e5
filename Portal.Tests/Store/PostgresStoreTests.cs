using Portal.Data;

namespace Portal.Tests.Store;

/// <summary>
/// The store tests on a real PostgreSQL, each in its own new database. They prove the Npgsql
/// compatibility layer (Portal/Data/NpgsqlCompat.cs) end to end; each test is redeclared here only
/// to mark it <see cref="PostgresFactAttribute"/>.
/// </summary>
public sealed class PostgresStoreTests : StoreTests
{
    protected override Type ContextType => typeof(PostgresPortalDbContext);

    protected override bool OnPostgres => true;

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
