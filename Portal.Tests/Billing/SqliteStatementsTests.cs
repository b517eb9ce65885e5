using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Portal.Billing;

namespace Portal.Tests.Billing;

/// <summary>
/// The ledger's statements bound and stepped through SQLitePCL (issue 18): values must be stored exactly
/// as Microsoft.Data.Sqlite stores them, because EF Core reads the rows back, and failures must surface
/// as the same SqliteExceptions after the same wait for a lock.
/// </summary>
public sealed class SqliteStatementsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("portal-statements-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    public static TheoryData<string, object?> Values() => new()
    {
        { "null", null },
        { "empty", "" },
        { "ascii", "req_123" },
        { "unicode", "Grüße, 世界 😀" },
        { "lone surrogate", "a\ud800b" },
        { "NUL inside", "a\0b" },
        { "long", new string('é', 3000) },
        { "long max", long.MaxValue },
        { "long min", long.MinValue },
        { "long negative", -20_000L },
        { "int max", int.MaxValue },
        { "int min", int.MinValue },
        { "true", true },
        { "false", false },
        { "date whole second", new DateTime(2026, 12, 7, 10, 30, 0, DateTimeKind.Utc) },
        { "date one tick", new DateTime(2026, 12, 7, 10, 30, 0, DateTimeKind.Utc).AddTicks(1) },
        { "date tenth", new DateTime(2026, 1, 2, 3, 4, 5, 100, DateTimeKind.Utc) },
        { "date all digits", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1_234_567) },
        { "date trailing zeros", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1_230_000) },
        { "date local", new DateTime(2026, 6, 30, 23, 59, 59, 999, DateTimeKind.Local) },
        { "date unspecified", new DateTime(999, 12, 31, 0, 0, 0, 5, DateTimeKind.Unspecified) },
        { "date min", DateTime.MinValue },
        { "date max", DateTime.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void AValueIsStoredAsMicrosoftDataSqliteStoresIt(string name, object? value)
    {
        using var connection = Open();
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE t (k INTEGER, v)");

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO t (k, v) VALUES (1, @v)";
            command.Parameters.AddWithValue("@v", value ?? DBNull.Value);
            command.ExecuteNonQuery();
        }

        // @p1 first: SQLite numbers parameters by first appearance, the ledger's statements by name.
        var (rows, _) = statements.Run("INSERT INTO t (v, k) VALUES (@p1, @p0)", [2L, value], read: false);

        Assert.Equal(1, rows);
        Assert.Equal((name, Stored(connection, 1)), (name, Stored(connection, 2)));
    }

    [Fact]
    public void DatesAreFormattedAsMicrosoftDataSqliteFormatsThem()
    {
        var random = new Random(18);
        Span<byte> buffer = stackalloc byte[SqliteDate.MaxLength];
        for (var i = 0; i < 100_000; i++)
        {
            var time = new DateTime(random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks + 1));
            // Cut some ticks' trailing digits, as clocks of coarser resolution do.
            time = new DateTime(time.Ticks - time.Ticks % (long)Math.Pow(10, random.Next(0, 8)));
            var expected = time.ToString(@"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF", CultureInfo.InvariantCulture);

            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(buffer[..SqliteDate.Format(time, buffer)]));
        }
    }

    [Fact]
    public void AReadReturnsItsNumberOrNullAndCountsItsRow()
    {
        using var connection = Open();
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE b (id TEXT PRIMARY KEY, n INTEGER); INSERT INTO b VALUES ('a', 5), ('z', NULL)");
        const string read = "UPDATE b SET n = n WHERE id = @p0 RETURNING n";

        Assert.Equal((1, (long?)5), statements.Run(read, ["a"], read: true));
        Assert.Equal((1, (long?)null), statements.Run(read, ["z"], read: true));
        Assert.Equal((0, (long?)null), statements.Run(read, ["missing"], read: true));
        // A conditional update: the rows it changed.
        Assert.Equal((0, (long?)null), statements.Run("UPDATE b SET n = n - @p1 WHERE id = @p0 AND n >= @p1", ["a", 6L], read: false));
        Assert.Equal((1, (long?)null), statements.Run("UPDATE b SET n = n - @p1 WHERE id = @p0 AND n >= @p1", ["a", 5L], read: false));
    }

    [Fact]
    public void AFailedStatementThrowsSqliteExceptionAndRunsAgainAfterwards()
    {
        using var connection = Open();
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE u (id TEXT PRIMARY KEY)");
        const string insert = "INSERT INTO u (id) VALUES (@p0)";
        statements.Run(insert, ["a"], read: false);

        var error = Assert.Throws<SqliteException>(() => statements.Run(insert, ["a"], read: false));

        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Equal((1, (long?)null), statements.Run(insert, ["b"], read: false));
        var unprepared = Assert.Throws<SqliteException>(() => statements.Run("INSERT INTO missing (id) VALUES (@p0)", ["c"], read: false));
        Assert.Equal(1, unprepared.SqliteErrorCode); // SQLITE_ERROR: no such table
    }

    [Fact]
    public void AValueOfAnotherTypeIsRefusedNotStoredDifferently()
    {
        using var connection = Open();
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE t (v)");

        Assert.Throws<InvalidOperationException>(() => statements.Run("INSERT INTO t (v) VALUES (@p0)", [1.5m], read: false));
        Assert.Throws<InvalidOperationException>(() => statements.Run("INSERT INTO t (v) VALUES (@p0)", [], read: false));
    }

    [Fact]
    public void AWriteWaitsForAnotherWritersLockAsLongAsTheDefaultTimeout()
    {
        using var connection = Open(timeoutSeconds: 1);
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE t (v)");
        using var other = Open();
        using var lockHeld = other.BeginTransaction(deferred: false);

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<SqliteException>(() => statements.Run("INSERT INTO t (v) VALUES (@p0)", [1L], read: false));

        Assert.Equal(5, error.SqliteErrorCode); // SQLITE_BUSY, as the writer's outage detection expects
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AWriteGoesThroughOnceTheOtherWriterLetsGo()
    {
        using var connection = Open(timeoutSeconds: 30);
        using var statements = new SqliteStatements(connection);
        Execute(connection, "CREATE TABLE t (v)");
        using var other = Open();
        var lockHeld = other.BeginTransaction(deferred: false);
        var release = Task.Delay(400).ContinueWith(_ => lockHeld.Dispose(), TaskScheduler.Default);

        Assert.Equal((1, (long?)null), statements.Run("INSERT INTO t (v) VALUES (@p0)", [1L], read: false));
        await release;
    }

    [Fact]
    public void ADefaultTimeoutOfZeroWaitsWithoutLimitAsMicrosoftDataSqliteDoes()
    {
        using var connection = Open(timeoutSeconds: 0);
        using var statements = new SqliteStatements(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout";

        // 0 is "no limit" to Microsoft.Data.Sqlite; SQLite's own handler then waits as long as it can count.
        Assert.Equal((long)int.MaxValue, (long)command.ExecuteScalar()!);
    }

    private SqliteConnection Open(int timeoutSeconds = 30)
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "t.db")};Default Timeout={timeoutSeconds}");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The stored value's storage class and its exact SQL literal (text byte for byte, as hex).</summary>
    private static (string Type, string Literal) Stored(SqliteConnection connection, long key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT typeof(v), CASE typeof(v) WHEN 'text' THEN hex(v) ELSE quote(v) END FROM t WHERE k = @k";
        command.Parameters.AddWithValue("@k", key);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetString(0), reader.GetString(1));
    }
}
