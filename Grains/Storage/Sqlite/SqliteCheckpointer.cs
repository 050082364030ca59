using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread of its own, so the writer's commits do not wait for it.
/// A passive checkpoint does not block the writer. While commits come, rounds are paced by <see cref="CheckpointPacing"/>:
/// the configured interval where the disk keeps up, further apart (up to the longest) as rounds grow slow, so the WAL
/// usually holds about that much uncopied; when the WAL has not moved since the last round it waits the idle interval.
/// Under a steady stream of commits it rarely catches the very end of the WAL, so the writer's own checkpoint (at a
/// WAL size with room for the current pace's writes, <see cref="SqliteSettings.WalRestartBytesAt"/>) is what starts
/// the WAL over; it usually finds only the last round's worth of frames left to copy (more at the start of a burst, or
/// while a reader holds an old snapshot). (With this thread once a second and the writer's checkpoint at 64 MiB, that
/// was up to a second of writes, copied and synced by the writer while every commit waited: a 30-110 ms stall every
/// 1.6-4.5 s at 1,000-3,000 msgs/s.)
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _checkpoint;
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly Thread _thread;

    /// <summary>The pace this thread keeps and reports to.</summary>
    internal CheckpointPacing Pacing { get; }

    public SqliteCheckpointer(string connectionString, CheckpointPacing pacing)
    {
        Pacing = pacing;
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
        var pause = Pacing.Idle;
        long walFrames = -1;
        while (!_stop.Wait(pause))
        {
            try
            {
                // One row: whether it was blocked (the writer's own checkpoint was running), the frames in the WAL,
                // the frames copied back so far (both -1 when blocked).
                var started = Stopwatch.GetTimestamp();
                using var result = _checkpoint.ExecuteReader();
                if (!result.Read() || result.GetInt64(0) != 0 || result.GetInt64(1) < 0)
                {
                    pause = Pacing.Blocked;
                    continue;
                }
                var frames = result.GetInt64(1);
                pause = Pacing.After(Stopwatch.GetElapsedTime(started), walMoved: frames != walFrames);
                walFrames = frames;
            }
            catch (SqliteException)
            {
                // An error that may last (the file gone, an I/O error): not fifty times a second. The writer's own
                // checkpoint still lets the WAL start over meanwhile.
                pause = Pacing.Idle;
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
