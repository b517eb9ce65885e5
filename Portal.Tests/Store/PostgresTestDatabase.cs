using Npgsql;

namespace Portal.Tests.Store;

/// <summary>
/// A uniquely named database on the server named by <see cref="Variable"/>, for one test (or one
/// cluster of Portal instances). Portal itself creates it (its migrations create a missing database);
/// disposing drops it. Linked into Portal.E2E as well, so both test projects share one copy.
/// </summary>
public class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>A connection string for a role with CREATEDB, e.g. to the <c>postgres</c> database.</summary>
    public const string Variable = "PORTAL_TEST_POSTGRES";

    public PostgresTestDatabase()
        : this(ServerConnectionString
            ?? throw new InvalidOperationException($"{Variable} is not set, and CI=true requires the PostgreSQL tests to run. Set it to a connection string for a role with CREATEDB (scripts/test-services.sh does)."))
    {
    }

    /// <param name="server">A connection string for a role with CREATEDB on another server than <see cref="Variable"/>'s, e.g. one the test started itself.</param>
    public PostgresTestDatabase(string server)
    {
        _server = server;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
    }

    private readonly string _server;

    public static string? ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>Whether PostgreSQL tests run: when a server is named, and always in CI (where a missing one must fail, not skip).</summary>
    public static bool TestsRun =>
        ServerConnectionString is not null || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string Name { get; } = $"portal_test_{Guid.NewGuid():N}";

    public string ConnectionString { get; }

    /// <summary>
    /// The key ring secret of every Portal on a test database (instances sharing a database share it,
    /// as a deployment's do; ADR 14): 32 random bytes in base64, new for each test run.
    /// </summary>
    public static string KeyRingSecret { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The settings that put a Portal's store on this database.</summary>
    public Dictionary<string, string?> StoreSettings() => new()
    {
        ["Store:Provider"] = "Postgres",
        ["Store:ConnectionString"] = ConnectionString,
        ["DataProtection:KeyRingSecret"] = KeyRingSecret,
    };

    /// <summary>Creates the (empty) database now, for a test that fills it before Portal starts.</summary>
    public Task CreateAsync() => OnServerAsync($"CREATE DATABASE \"{Name}\"");

    /// <summary>Drops the database, even under a running Portal (FORCE ends its connections).</summary>
    public async Task DropAsync()
    {
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await OnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    /// <summary>
    /// A database that refuses every connection, as a full server does: its running sessions are
    /// ended (57P01, what a restart does to them) and new ones are refused with "too many connections"
    /// (53300), until <see cref="AcceptConnectionsAsync"/>. The server and other tests' databases go on.
    /// </summary>
    public async Task RefuseConnectionsAsync()
    {
        await OnServerAsync($"ALTER DATABASE \"{Name}\" CONNECTION LIMIT 0");
        await OnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()");
    }

    public Task AcceptConnectionsAsync() => OnServerAsync($"ALTER DATABASE \"{Name}\" CONNECTION LIMIT -1");

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs a statement on the server's own database (the one the server's connection string names).</summary>
    protected async Task OnServerAsync(string sql)
    {
        await using var server = new NpgsqlConnection(_server);
        await server.OpenAsync();
        await using var command = new NpgsqlCommand(sql, server);
        await command.ExecuteNonQueryAsync();
    }
}
