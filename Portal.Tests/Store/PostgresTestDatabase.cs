using Npgsql;

namespace Portal.Tests.Store;

/// <summary>
/// A uniquely named database on the server named by <see cref="Variable"/>, for one test. Portal
/// itself creates it (its migrations create a missing database); disposing drops it.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>A connection string for a role with CREATEDB, e.g. to the <c>postgres</c> database.</summary>
    public const string Variable = "PORTAL_TEST_POSTGRES";

    public PostgresTestDatabase()
    {
        var server = ServerConnectionString
            ?? throw new InvalidOperationException($"{Variable} is not set, and CI=true requires the PostgreSQL tests to run. Set it to a connection string for a role with CREATEDB (scripts/test.sh does).");
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
    }

    public static string? ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>Whether PostgreSQL tests run: when a server is named, and always in CI (where a missing one must fail, not skip).</summary>
    public static bool TestsRun =>
        ServerConnectionString is not null || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string Name { get; } = $"portal_test_{Guid.NewGuid():N}";

    public string ConnectionString { get; }

    public async ValueTask DisposeAsync()
    {
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var server = new NpgsqlConnection(ServerConnectionString);
        await server.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", server);
        await drop.ExecuteNonQueryAsync();
    }
}
