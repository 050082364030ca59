using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// One SQL statement prepared once on the writer's connection and run again for every write that needs it
/// (<see cref="SqliteWriter.Statement"/>). Values are bound by parameter name straight into SQLite: no
/// parameter objects, no boxing, strings handed over as UTF-16 without a managed copy, and the statement is
/// stepped and reset without a data reader. A <see cref="SqliteCommand"/> does all of those per execution,
/// which on the writer's path was a sixth of the server's allocations per message. Only the writer's thread
/// uses it; errors are thrown as the <see cref="SqliteException"/> a command would throw.
/// </summary>
internal sealed class WriterStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly string[] _names;

    public WriterStatement(sqlite3 db, string sql)
    {
        _db = db;
        var rc = raw.sqlite3_prepare_v2(db, sql, out _statement, out string tail);
        SqliteException.ThrowExceptionForRC(rc, db);
        if (!string.IsNullOrWhiteSpace(tail.TrimEnd(';'))) throw new ArgumentException($"one statement only: '{sql}'", nameof(sql));
        _names = new string[raw.sqlite3_bind_parameter_count(_statement)];
        for (var i = 0; i < _names.Length; i++) _names[i] = raw.sqlite3_bind_parameter_name(_statement, i + 1).utf8_to_string();
    }

    public void Bind(string name, long value) => Check(raw.sqlite3_bind_int64(_statement, Index(name), value));

    public void Bind(string name, bool value) => Bind(name, value ? 1L : 0L);

    /// <summary>Binds text, or NULL for null.</summary>
    public void Bind(string name, string? value) => Check(value switch
    {
        null => raw.sqlite3_bind_null(_statement, Index(name)),
        // An empty span has no address, which SQLite would read as NULL.
        "" => raw.sqlite3_bind_text(_statement, Index(name), ""),
        _ => raw.sqlite3_bind_text16(_statement, Index(name), value.AsSpan()),
    });

    /// <summary>Binds a blob, or NULL for null.</summary>
    public void Bind(string name, byte[]? value) => Check(value switch
    {
        null => raw.sqlite3_bind_null(_statement, Index(name)),
        [] => raw.sqlite3_bind_zeroblob(_statement, Index(name), 0), // (an empty span has no address: NULL)
        _ => raw.sqlite3_bind_blob(_statement, Index(name), value),
    });

    /// <summary>Runs the statement to its end; the number of rows it changed.</summary>
    public int ExecuteNonQuery()
    {
        Run();
        return raw.sqlite3_changes(_db);
    }

    /// <summary>Runs the statement to its end; the first column of its first row as an integer, or null when it returned no row or NULL.</summary>
    public long? ExecuteScalar() => Run();

    /// <summary>Steps the statement to its end and resets it; the first column of its first row, if it returned one and not NULL.</summary>
    private long? Run()
    {
        try
        {
            long? first = null;
            var rows = 0;
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
                if (rows++ == 0 && raw.sqlite3_column_type(_statement, 0) != raw.SQLITE_NULL) first = raw.sqlite3_column_int64(_statement, 0);
            }
            if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _db);
            return first;
        }
        finally
        {
            Reset();
        }
    }

    public void Dispose() => _statement.Dispose();

    /// <summary>
    /// Ready for the next run, holding nothing of this one: a run that forgets to bind a parameter then binds NULL
    /// (which the schema's NOT NULL columns refuse) rather than the previous write's value, and SQLite lets go of
    /// its copies of this run's texts.
    /// </summary>
    private void Reset()
    {
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    private int Index(string name)
    {
        for (var i = 0; i < _names.Length; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.Ordinal)) return i + 1;
        }
        throw new ArgumentException($"the statement has no parameter {name}", nameof(name));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}
