using Npgsql;

namespace Portal.E2E.Cluster;

/// <summary>
/// The fresh PostgreSQL database shared by the Portal instances of one cluster, with what the tests
/// need beyond creating and dropping it: SQL to check it, and taking it offline.
/// </summary>
public sealed class ClusterDatabase : PostgresTestDatabase
{
    public ClusterDatabase()
    {
    }

    /// <param name="server">A server of the test's own (<see cref="PostgresServer"/>) instead of the shared one.</param>
    public ClusterDatabase(PostgresServer server)
        : base(server.ConnectionString)
    {
    }

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
}
