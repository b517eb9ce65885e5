using Npgsql;

namespace Portal.E2E.Cluster;

/// <summary>
/// A fresh, uniquely named PostgreSQL database on the server named by <see cref="Variable"/>, shared
/// by the Portal instances of one cluster; the tests check it with SQL. Disposing drops it.
/// </summary>
public sealed class ClusterDatabase : IAsyncDisposable
{
    /// <summary>A connection string for a role with CREATEDB (scripts/test.sh sets it).</summary>
    public const string Variable = "PORTAL_TEST_POSTGRES";

    public ClusterDatabase()
    {
        var server = ServerConnectionString
            ?? throw new InvalidOperationException($"{Variable} is not set, and CI=true requires the cluster tests to run. Set it to a connection string for a role with CREATEDB (scripts/test.sh does).");
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = Name }.ConnectionString;
    }

    public static string? ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    /// <summary>Whether the cluster tests run: when a server is named, and always in CI (where a missing one must fail, not skip).</summary>
    public static bool TestsRun =>
        ServerConnectionString is not null || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string Name { get; } = $"portal_cluster_{Guid.NewGuid():N}";

    public string ConnectionString { get; }

    /// <summary>The connection string an instance gets: a small pool, so several instances and the tests fit in the server's 100 connections.</summary>
    public string InstanceConnectionString(int maxPoolSize) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = maxPoolSize }.ConnectionString;

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Every row of a query, as arrays of column values.</summary>
    public async Task<List<object?[]>> RowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// What the instances see when PostgreSQL restarts: every open connection to this database is
    /// cut and new ones are refused, until <see cref="BringBackAsync"/>. Only this test's database is
    /// touched, not the server other tests share.
    /// </summary>
    public async Task TakeOfflineAsync()
    {
        await OnServerAsync($"ALTER DATABASE \"{Name}\" WITH ALLOW_CONNECTIONS false");
        await OnServerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()");
        await using var pooled = new NpgsqlConnection(ConnectionString);
        NpgsqlConnection.ClearPool(pooled); // this process's own idle connections were cut too
    }

    public Task BringBackAsync() => OnServerAsync($"ALTER DATABASE \"{Name}\" WITH ALLOW_CONNECTIONS true");

    public async ValueTask DisposeAsync()
    {
        await using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await OnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    /// <summary>Runs a statement on the server's own database (the one <see cref="Variable"/> names).</summary>
    private static async Task OnServerAsync(string sql)
    {
        await using var server = new NpgsqlConnection(ServerConnectionString);
        await server.OpenAsync();
        await using var command = new NpgsqlCommand(sql, server);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>A test that runs several Portal instances on one PostgreSQL: skipped without one, never in CI.</summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (!ClusterDatabase.TestsRun)
        {
            Skip = $"set {ClusterDatabase.Variable} to run";
        }
    }
}
