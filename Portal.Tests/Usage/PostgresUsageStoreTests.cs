using Portal.Tests.Store;

namespace Portal.Tests.Usage;

/// <summary>The usage queries on a real PostgreSQL, each test in its own new database.</summary>
public sealed class PostgresUsageStoreTests : UsageStoreTests
{
    protected override bool OnPostgres => true;

    [PostgresFact]
    public override Task DaysAndModelsSumOnlyTheUsersOwnRequestsInsideTheWindow() => base.DaysAndModelsSumOnlyTheUsersOwnRequestsInsideTheWindow();

    [PostgresFact]
    public override Task RequestsAreTheUsersOwnNewestFirstFilteredAndPaged() => base.RequestsAreTheUsersOwnNewestFirstFilteredAndPaged();

    [PostgresFact]
    public override Task TheExportStreamsEveryMatchingRequestInPageOrder() => base.TheExportStreamsEveryMatchingRequestInPageOrder();

    [PostgresFact]
    public override Task TheLedgerShowsTheBalanceAfterEachEntryAcrossPages() => base.TheLedgerShowsTheBalanceAfterEachEntryAcrossPages();

}
