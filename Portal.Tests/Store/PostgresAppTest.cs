namespace Portal.Tests.Store;

/// <summary>
/// A test class whose Portal runs on its own new PostgreSQL database (created only when PostgreSQL
/// tests run: see <see cref="PostgresTestDatabase.TestsRun"/>), dropped afterwards.
/// </summary>
public abstract class PostgresAppTest : IAsyncLifetime
{
    private PostgresTestDatabase? _database;
    private PortalApplication? _app;

    protected PortalApplication App => _app!;

    protected PostgresTestDatabase Database => _database!;

    /// <summary>Settings on top of the store's, e.g. a faster simulated upstream.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public Task InitializeAsync()
    {
        if (PostgresTestDatabase.TestsRun)
        {
            _database = new PostgresTestDatabase();
            var settings = new Dictionary<string, string?>(Settings)
            {
                ["Store:Provider"] = "Postgres",
                ["Store:ConnectionString"] = _database.ConnectionString,
            };
            _app = new PortalApplication(settings);
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _app?.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
