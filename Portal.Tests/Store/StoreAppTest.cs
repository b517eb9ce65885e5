namespace Portal.Tests.Store;

/// <summary>
/// A test class whose Portal runs on a fresh store: SQLite in its own temp folder, or a new
/// PostgreSQL database (created only when PostgreSQL tests run: see
/// <see cref="PostgresTestDatabase.TestsRun"/>) dropped afterwards. A suite that must hold on both
/// providers derives once per provider; the PostgreSQL class redeclares each test only to mark it
/// <see cref="PostgresFactAttribute"/>.
/// </summary>
public abstract class StoreAppTest : IAsyncLifetime
{
    private PostgresTestDatabase? _database;
    private PortalApplication? _app;

    /// <summary>PostgreSQL rather than SQLite.</summary>
    protected abstract bool OnPostgres { get; }

    protected PortalApplication App => _app ?? throw new InvalidOperationException("the store is not set up yet");

    protected PostgresTestDatabase Database => _database ?? throw new InvalidOperationException("no PostgreSQL database here");

    /// <summary>Settings on top of the store's, e.g. a faster simulated upstream.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public Task InitializeAsync()
    {
        if (!OnPostgres)
        {
            _app = new PortalApplication(new Dictionary<string, string?>(Settings) { ["Store:Provider"] = "Sqlite" });
        }
        else if (PostgresTestDatabase.TestsRun)
        {
            _database = new PostgresTestDatabase();
            _app = new PortalApplication(Settings.Concat(_database.StoreSettings()).ToDictionary());
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
