using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace Portal.Data;

/// <summary>
/// Lets SQLite itself wait for another connection's write lock, up to the connection's Default Timeout, on
/// every connection the store opens. Microsoft.Data.Sqlite sets no busy handler: it retries a busy
/// statement every 150 ms, so a ledger batch that met a background job's write (a lease renewal, a sweep)
/// stalled every request in it for 150 ms although the lock was free a millisecond later — the 145–160 ms
/// tail of every SQLite bench run. SQLite's handler retries after 1, 2, 5, 10… ms (issue 18).
/// </summary>
internal sealed class SqliteBusyWait : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>Sets the handler on an open connection: its Default Timeout, or (0, "no limit") as long as SQLite can count.</summary>
    internal static void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle, DefaultTimeout: var seconds and >= 0 })
        {
            raw.sqlite3_busy_timeout(handle, seconds == 0 ? int.MaxValue : (int)Math.Min(seconds * 1000L, int.MaxValue));
        }
    }
}
