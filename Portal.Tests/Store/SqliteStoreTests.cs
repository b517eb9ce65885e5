using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Tests.Store;

/// <summary>The store tests on SQLite, the default: a file in the application's temp data folder.</summary>
public sealed class SqliteStoreTests : StoreTests
{
    protected override Type ContextType => typeof(SqlitePortalDbContext);

    protected override bool OnPostgres => false;

    [Fact]
    public async Task TheStoreFileLivesInTheApplicationsOwnDataFolder()
    {
        using var browser = App.CreateBrowser();
        Assert.Equal("/", (await browser.SignUpAsync("ada@example.com", "correct horse battery")).RedirectTarget());

        Assert.True(File.Exists(Path.Combine(App.DataFolder, "portal.db")));
    }

    [Fact]
    public async Task EveryConnectionLetsSqliteItselfWaitForTheWriteLock()
    {
        await using var db = await CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout;";

        // Microsoft.Data.Sqlite sets none (it retries every 150 ms); the store's connections wait in SQLite,
        // in steps of a few milliseconds, for as long as their Default Timeout (30 s) allows.
        Assert.Equal(30_000L, (long)(await command.ExecuteScalarAsync())!);
    }
}
