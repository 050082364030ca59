using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread of its own, so the writer's commits do not wait for it.
/// A passive checkpoint does not block the writer. While commits come it runs every <c>busyInterval</c>, so the
/// WAL never holds more than that much uncopied; when the WAL has not moved since the last round it waits
/// <c>idleInterval</c>. Under a steady stream of commits it rarely catches the very end of the WAL, so the
/// writer's own checkpoint (at a small WAL size, <see cref="SqliteWriter"/>) is what starts the WAL over; it
/// finds at most one busy interval's frames left to copy. (With this thread once a second and the writer's
/// checkpoint at 64 MiB, that was up to a second of writes, copied and synced by the writer while every
/// commit waited: a 30-110 ms stall every 1.6-4.5 s at 1,000-3,000 msgs/s.)
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _checkpoint;
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly Thread _thread;
    private readonly TimeSpan _busyInterval;
    private readonly TimeSpan _idleInterval;

    public SqliteCheckpointer(string connectionString, TimeSpan busyInterval, TimeSpan idleInterval)
    {
        _busyInterval = busyInterval;
        _idleInterval = idleInterval;
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
        var pause = _idleInterval;
        long walFrames = -1;
        while (!_stop.Wait(pause))
        {
            try
            {
                // One row: whether it was blocked, the frames in the WAL, the frames copied back so far.
                using var result = _checkpoint.ExecuteReader();
                var frames = result.Read() ? result.GetInt64(1) : -1;
                pause = frames != walFrames ? _busyInterval : _idleInterval;
                walFrames = frames;
            }
            catch (SqliteException)
            {
                // Busy or interrupted: the next round copies what this one did not.
                pause = _busyInterval;
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
