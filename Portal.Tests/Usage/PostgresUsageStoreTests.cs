using Portal.Tests.Store;

namespace Portal.Tests.Usage;

/// <summary>The usage and status queries on a real PostgreSQL, each test in its own new database.</summary>
public sealed class PostgresUsageStoreTests : UsageStoreTests
{
    private PostgresTestDatabase? _database;

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
    public override Task DaysAndModelsSumOnlyTheUsersOwnRequestsInsideTheWindow() => base.DaysAndModelsSumOnlyTheUsersOwnRequestsInsideTheWindow();

    [PostgresFact]
    public override Task RequestsAreTheUsersOwnNewestFirstFilteredAndPaged() => base.RequestsAreTheUsersOwnNewestFirstFilteredAndPaged();

    [PostgresFact]
    public override Task TheExportStreamsEveryMatchingRequestInPageOrder() => base.TheExportStreamsEveryMatchingRequestInPageOrder();

    [PostgresFact]
    public override Task TheLedgerShowsTheBalanceAfterEachEntryAcrossPages() => base.TheLedgerShowsTheBalanceAfterEachEntryAcrossPages();

    [PostgresFact]
    public override Task StatusCountsServerFailuresNotClientErrorsAndTakesMediansOfSuccesses() => base.StatusCountsServerFailuresNotClientErrorsAndTakesMediansOfSuccesses();

    [PostgresFact]
    public override Task OnlyClientErrorsLeaveAvailabilityUnknownNotPerfect() => base.OnlyClientErrorsLeaveAvailabilityUnknownNotPerfect();
}
