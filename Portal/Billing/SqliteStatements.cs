using System.Buffers;
using System.Text;
using Microsoft.Data.Sqlite;
using Portal.Data;
using SQLitePCL;

namespace Portal.Billing;

/// <summary>
/// The ledger writer's statements on SQLite, prepared once per connection and bound and stepped
/// through SQLitePCL directly: Microsoft.Data.Sqlite's command objects cost more per statement than
/// SQLite's own work (issue 18). Values are stored exactly as Microsoft.Data.Sqlite stores them,
/// because EF Core reads these rows back; statements run inside the connection's ADO.NET transaction.
/// While another connection holds the write lock, SQLite's busy handler waits (<see cref="SqliteBusyWait"/>).
/// </summary>
internal sealed class SqliteStatements : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, Prepared> _prepared = [];

    public SqliteStatements(SqliteConnection connection)
    {
        _connection = connection;
        // The store's connections have it already; set here too, so no caller can step without it.
        SqliteBusyWait.Apply(connection);
    }

    /// <summary>Runs one statement: rows it changed (a read: 1 if it returned a row), and the read's number.</summary>
    public (int Rows, long? Value) Run(string sql, object?[] values, bool read)
    {
        var prepared = Prepare(sql, values.Length);
        if (prepared.Indexes.Length != values.Length)
        {
            throw new InvalidOperationException($"A ledger statement was given {values.Length} values for {prepared.Indexes.Length} parameters: {sql}");
        }

        var stmt = prepared.Statement;
        var db = _connection.Handle!;
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                Check(Bind(stmt, prepared.Indexes[i], values[i]), db);
            }

            var rc = raw.sqlite3_step(stmt);
            if (!read)
            {
                while (rc == raw.SQLITE_ROW)
                {
                    rc = raw.sqlite3_step(stmt);
                }

                Check(rc, db);
                return (raw.sqlite3_changes(db), null);
            }

            Check(rc, db);
            if (rc == raw.SQLITE_DONE)
            {
                return (0, null);
            }

            long? value = raw.sqlite3_column_type(stmt, 0) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(stmt, 0);
            // RETURNING made its change at the first step; stepping to the end finishes the statement.
            while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
            {
            }

            Check(rc, db);
            return (1, value);
        }
        finally
        {
            // Leaves nothing pending in the transaction (its COMMIT or ROLLBACK comes next); reset
            // repeats a failed step's code, already thrown.
            raw.sqlite3_reset(stmt);
        }
    }

    /// <summary>
    /// Binds a value as Microsoft.Data.Sqlite's value binder does for a parameter without a SqliteType:
    /// integers and bools as INTEGER, strings as UTF-8 TEXT, DateTime as TEXT "yyyy-MM-dd HH:mm:ss.FFFFFFF",
    /// null as NULL. The ledger binds nothing else; anything else is refused rather than stored differently.
    /// </summary>
    internal static int Bind(sqlite3_stmt stmt, int index, object? value) => value switch
    {
        null => raw.sqlite3_bind_null(stmt, index),
        string text => BindText(stmt, index, text),
        long number => raw.sqlite3_bind_int64(stmt, index, number),
        int number => raw.sqlite3_bind_int64(stmt, index, number),
        bool flag => raw.sqlite3_bind_int64(stmt, index, flag ? 1 : 0),
        DateTime time => BindDate(stmt, index, time),
        _ => throw new InvalidOperationException($"The ledger binds no {value.GetType()} on SQLite."),
    };

    private static int BindText(sqlite3_stmt stmt, int index, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            return raw.sqlite3_bind_text(stmt, index, buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            return raw.sqlite3_bind_text(stmt, index, rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int BindDate(sqlite3_stmt stmt, int index, DateTime time)
    {
        Span<byte> buffer = stackalloc byte[SqliteDate.MaxLength];
        return raw.sqlite3_bind_text(stmt, index, buffer[..SqliteDate.Format(time, buffer)]);
    }

    private Prepared Prepare(string sql, int parameters)
    {
        if (_prepared.TryGetValue(sql, out var prepared))
        {
            return prepared;
        }

        var db = _connection.Handle!;
        var rc = raw.sqlite3_prepare_v2(db, sql, out var stmt);
        try
        {
            Check(rc, db);
            // SQLite numbers parameters in order of first appearance, not by name: @p1 may come before @p0.
            var indexes = new int[parameters];
            for (var i = 0; i < parameters; i++)
            {
                indexes[i] = raw.sqlite3_bind_parameter_index(stmt, "@p" + i);
            }

            if (raw.sqlite3_bind_parameter_count(stmt) != parameters || indexes.Contains(0))
            {
                throw new InvalidOperationException($"A ledger statement was given {parameters} values for other parameters: {sql}");
            }

            prepared = new Prepared(stmt, indexes);
        }
        catch
        {
            stmt?.Dispose();
            throw;
        }

        _prepared[sql] = prepared;
        return prepared;
    }

    /// <summary>Throws what Microsoft.Data.Sqlite throws for the code, so the writer's failure handling sees the same exceptions.</summary>
    private static void Check(int rc, sqlite3 db) => SqliteException.ThrowExceptionForRC(rc, db);

    /// <summary>Finalizes the statements: before the connection goes back to the pool.</summary>
    public void Dispose()
    {
        foreach (var prepared in _prepared.Values)
        {
            prepared.Statement.Dispose();
        }

        _prepared.Clear();
    }

    /// <param name="Indexes">SQLite's index of parameter @p0, @p1, … in the statement.</param>
    private sealed record Prepared(sqlite3_stmt Statement, int[] Indexes);
}
