using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread of its own, every interval, so the writer never
/// stalls on a checkpoint (left to SQLite, the commit that crosses the threshold copies every page
/// and fsyncs the database file before its callers hear back). A passive checkpoint does not block
/// the writer. When it catches up with the end of the WAL the writer's next commit starts the WAL
/// over; under a steady stream of commits it rarely does, and the writer's own (backstop)
/// checkpoint then finds nearly everything copied already.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _checkpoint;
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly Thread _thread;
    private readonly TimeSpan _interval;

    public SqliteCheckpointer(string connectionString, TimeSpan interval)
    {
        _interval = interval;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using (var sync = _connection.CreateCommand())
        {
            sync.CommandText = "PRAGMA synchronous=FULL;";
            sync.ExecuteNonQuery();
        }
        _checkpoint = _connection.CreateCommand();
        _checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-checkpoint" };
        _thread.Start();
    }

    private void Run()
    {
        while (!_stop.Wait(_interval))
        {
            try
            {
                _checkpoint.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // Busy or interrupted: the next round copies what this one did not.
            }
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _checkpoint.Dispose();
        _connection.Dispose();
        _stop.Dispose();
    }
}
