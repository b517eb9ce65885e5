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
}
