namespace Messenger.Grains.Storage.Sqlite;

/// <summary>How a SQLite database of the store paces its checkpoints (and, for benchmarks, its flushes).</summary>
/// <param name="CheckpointInterval">
/// How often the checkpoint thread copies the WAL into the database file while commits come. Short (the default, 20 ms)
/// keeps the copy the writer is left with at each WAL restart small, which keeps the tail short where CPU is the limit;
/// longer writes fewer bytes where the disk is (a page written again within a round is copied once).
/// </param>
/// <param name="SimulatedFlushLatency">For benchmarks only: every commit takes this much longer, as on a slower disk.</param>
public sealed record SqliteSettings(TimeSpan CheckpointInterval, TimeSpan SimulatedFlushLatency = default)
{
    /// <summary>The checkpoint interval unless configured otherwise.</summary>
    public static readonly TimeSpan DefaultCheckpointInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The defaults: checkpoints every 20 ms while busy, no simulated flush latency.</summary>
    public static SqliteSettings Default { get; } = new(DefaultCheckpointInterval);

    private const long MinimumWalRestartBytes = 4L * 1024 * 1024;

    /// <summary>
    /// The WAL size at which the writer checkpoints after a commit, which lets the WAL start over: 4 MiB, or room for
    /// a checkpoint interval's writes at 128 MiB/s if that is more (32 MiB at 250 ms), so the writer's own checkpoint
    /// finds only the last round's writes left to copy. At 64 MiB with a checkpoint each second it found up to a second
    /// of writes and stalled every commit for 30-110 ms while it copied them (docs/PERFORMANCE.md, "The WAL's restart").
    /// </summary>
    public long WalRestartBytes => Math.Max(MinimumWalRestartBytes, (long)(CheckpointInterval.TotalSeconds * 128 * 1024 * 1024));

    /// <summary>How often the checkpoint thread looks again once the WAL stopped moving.</summary>
    public TimeSpan IdleCheckpointInterval => CheckpointInterval > TimeSpan.FromMilliseconds(250) ? CheckpointInterval : TimeSpan.FromMilliseconds(250);
}
