using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Data;

namespace Portal.Tests.Store;

/// <summary>Which failures are a store outage (503, "try again shortly") and which are not (500, a bug to report).</summary>
public sealed class StoreOutageTests
{
    [Theory]
    [InlineData("53300")] // too many connections
    [InlineData("57P01")] // admin shutdown: a restart ended the session
    [InlineData("57P03")] // cannot connect now: starting up
    [InlineData("08006")] // connection failure
    [InlineData("3D000")] // the database is gone
    public void PostgresRefusingOrEndingConnectionsIsAnOutage(string sqlState) =>
        Assert.True(StoreOutage.IsOutage(Postgres(sqlState)));

    [Theory]
    [InlineData("23505")] // unique violation
    [InlineData("22P02")] // bad input
    [InlineData("40P01")] // deadlock: transient, but the store answered
    [InlineData("42P01")] // no such table: a bug or a missing migration
    public void PostgresAnsweringTheStatementIsNotAnOutage(string sqlState) =>
        Assert.False(StoreOutage.IsOutage(Postgres(sqlState)));

    [Fact]
    public void NoConnectionInTimeOrABrokenOneIsAnOutage()
    {
        Assert.True(StoreOutage.IsOutage(new NpgsqlException("The connection pool has been exhausted", new TimeoutException())));
        Assert.True(StoreOutage.IsOutage(new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111))));
        Assert.True(StoreOutage.IsOutage(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.False(StoreOutage.IsOutage(new NpgsqlException("Something else")));
    }

    [Theory]
    [InlineData(5, true)]    // busy: another process held the file past the busy timeout
    [InlineData(6, true)]    // locked
    [InlineData(10, true)]   // disk I/O error
    [InlineData(13, true)]   // disk full
    [InlineData(261, true)]  // SQLITE_BUSY_RECOVERY, an extended busy code
    [InlineData(19, false)]  // constraint
    [InlineData(1, false)]   // SQL error
    public void SqliteBusyLockedOrFailingDisksAreOutages(int code, bool outage) =>
        Assert.Equal(outage, StoreOutage.IsOutage(new SqliteException("sqlite", code)));

    [Fact]
    public void AnOutageIsFoundInsideWhatEfCoreWrapsItIn()
    {
        Assert.True(StoreOutage.IsOutage(new DbUpdateException("saving failed", Postgres("57P01"))));
        Assert.True(StoreOutage.IsOutage(new InvalidOperationException("likely a transient failure", Postgres("53300"))));
        Assert.True(StoreOutage.IsOutage(new AggregateException(new InvalidOperationException(), new SqliteException("busy", 5))));
        Assert.False(StoreOutage.IsOutage(new InvalidOperationException("a bug")));
        Assert.False(StoreOutage.IsOutage(null));
    }

    private static PostgresException Postgres(string sqlState) => new("the server said no", "FATAL", "FATAL", sqlState);
}
