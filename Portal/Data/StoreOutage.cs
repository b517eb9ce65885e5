using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Portal.Data;

/// <summary>
/// The one answer to "did this fail because the store is unavailable?": unreachable, refusing
/// connections, shutting down, or with no connection free in time. Such a failure passes without
/// anyone fixing Portal, so callers answer it as an outage to retry (503 with <c>Retry-After</c>, a
/// page's "try again shortly") instead of as a bug (500), and the ledger writer fails a whole batch
/// at once instead of retrying each write alone against a store that is not there (ADR 19); and
/// what to do with the connections an outage cut.
/// A store that answers "no" to the statement itself (a constraint, bad data, a bug in the SQL) is
/// not an outage.
/// </summary>
public static class StoreOutage
{
    /// <summary>
    /// What an outage's answer tells a client to wait: long enough for a restarting PostgreSQL or a
    /// released SQLite lock, short enough that a pool that was merely full is retried soon.
    /// </summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Whether <paramref name="error"/>, or anything it wraps, says the store is unavailable.</summary>
    public static bool IsOutage(Exception? error)
    {
        // EF Core wraps the provider's exception (in DbUpdateException, or in InvalidOperationException
        // for a failure it takes to be transient), so the cause is looked for down the chain.
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Any(IsOutage);
            }

            if (IsOutageItself(e))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// After a failure that says the server ended its sessions (a restart, a terminated backend, a cut
    /// network), the pool's idle connections are dead as well, though Npgsql finds out only as each is
    /// next used: each would fail one more request after the server is back. Clearing the pool makes
    /// the next request open a fresh connection. A full pool (a timeout) is left alone: clearing it
    /// would only add reconnections to a busy server.
    /// </summary>
    public static void ForgetCutConnections(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            var cut = e switch
            {
                PostgresException postgres => postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                    || postgres.SqlState.StartsWith("08", StringComparison.Ordinal),
                NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException,
                _ => false,
            };
            if (cut)
            {
                // Every pool of the process: Portal has one, its store's (StoreOptions).
                NpgsqlConnection.ClearAllPools();
                return;
            }
        }
    }

    private static bool IsOutageItself(Exception e) => e switch
    {
        PostgresException postgres => IsOutageState(postgres.SqlState),
        // No answer from the server at all: the connection could not be made or broke (a socket or I/O
        // error inside), or no pooled connection came free within the connection string's Timeout.
        NpgsqlException npgsql => npgsql.IsTransient,
        SqliteException sqlite => (sqlite.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked or SqliteIoError or SqliteFull or SqliteCantOpen,
        _ => false,
    };

    /// <summary>
    /// PostgreSQL's SQLSTATEs of a server that cannot serve now. Not every transient state counts:
    /// a deadlock or a serialization failure is a conflict between requests, which the store
    /// answered, not an outage.
    /// </summary>
    private static bool IsOutageState(string state) =>
        state.StartsWith("08", StringComparison.Ordinal)       // connection exception
        || state.StartsWith("53", StringComparison.Ordinal)    // insufficient resources, 53300 too many connections among them
        || state is PostgresErrorCodes.AdminShutdown            // 57P01: a restart or a terminated backend
            or PostgresErrorCodes.CrashShutdown                 // 57P02
            or PostgresErrorCodes.CannotConnectNow              // 57P03: starting up or shutting down
            or "57P04"                                          // database_dropped
            or PostgresErrorCodes.InvalidCatalogName            // 3D000: the database is not there (dropped, not yet restored)
            or PostgresErrorCodes.ObjectNotInPrerequisiteState  // 55000: an operator closed the database (ALLOW_CONNECTIONS false); Portal's statements raise it for nothing else
            or PostgresErrorCodes.SystemError                   // 58000
            or PostgresErrorCodes.IoError;                      // 58030: the server's disk failed

    // SQLite's primary result codes (the low byte of an extended one). BUSY and LOCKED come after the
    // connection's busy timeout has run out: another process holds the file.
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
}
