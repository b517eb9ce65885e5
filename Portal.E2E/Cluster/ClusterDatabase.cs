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
