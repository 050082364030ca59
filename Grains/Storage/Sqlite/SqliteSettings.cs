namespace Messenger.Grains.Storage.Sqlite;

/// <summary>How a SQLite database of the store paces its checkpoints (and, for benchmarks, its flushes).</summary>
/// <param name="CheckpointInterval">
/// The shortest wait between the checkpoint thread's copies of the WAL into the database file while commits come (20 ms
/// by default). Rounds that take long are spread further apart, up to <see cref="LongestCheckpointInterval"/>
/// (<see cref="Sqlite.CheckpointPacing"/>). Short keeps the copy the writer is left with at each WAL restart small,
/// which keeps the tail short where CPU is the limit; longer writes fewer bytes where the disk is (a page written again
/// within a round is copied once).
/// </param>
/// <param name="SimulatedFlushLatency">For benchmarks only: every commit takes this much longer, as on a slower disk.</param>
public sealed record SqliteSettings(TimeSpan CheckpointInterval, TimeSpan SimulatedFlushLatency = default)
{
    /// <summary>The checkpoint interval unless configured otherwise.</summary>
    public static readonly TimeSpan DefaultCheckpointInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The defaults: checkpoints every 20 ms while busy (up to 250 ms where rounds are slow), no simulated flush latency.</summary>
    public static SqliteSettings Default { get; } = new(DefaultCheckpointInterval);

    private static readonly TimeSpan LongestPacedInterval = TimeSpan.FromMilliseconds(250);

    private const long MiB = 1024 * 1024;

    /// <summary>For tests: the longest interval (and the idle one) instead of 250 ms (zero: 250 ms), so that the pace cannot move.</summary>
    internal TimeSpan MaxCheckpointInterval { get; init; }

    /// <summary>The longest wait between checkpoint rounds while commits come: 250 ms, or the interval if that is longer.</summary>
    public TimeSpan LongestCheckpointInterval
    {
        get
        {
            var longest = MaxCheckpointInterval > TimeSpan.Zero ? MaxCheckpointInterval : LongestPacedInterval;
            return CheckpointInterval > longest ? CheckpointInterval : longest;
        }
    }

    /// <summary>
    /// The WAL size at which the writer checkpoints after a commit, which lets the WAL start over, while the checkpoint
    /// thread's rounds are <paramref name="interval"/> apart: room for an interval's writes at 128 MiB/s in whole MiB,
    /// at least 4 MiB (4 MiB at 20 ms, 32 MiB at 250 ms), so the writer's own checkpoint finds only the last round's
    /// writes left to copy. At 64 MiB with a checkpoint each second it found up to a second of writes and stalled every
    /// commit for 30-110 ms while it copied them (docs/PERFORMANCE.md, "The WAL's restart"); with rounds 20 ms apart,
    /// 4 MiB gave the shortest tail of the sizes tried.
    /// </summary>
    public static long WalRestartBytesAt(TimeSpan interval) => Math.Max(4, (long)Math.Ceiling(interval.TotalSeconds * 128)) * MiB;

    /// <summary>The largest restart size the pace can reach (at <see cref="LongestCheckpointInterval"/>).</summary>
    public long LargestWalRestartBytes => WalRestartBytesAt(LongestCheckpointInterval);

    /// <summary>How often the checkpoint thread looks again once the WAL stopped moving.</summary>
    public TimeSpan IdleCheckpointInterval => LongestCheckpointInterval;

    internal CheckpointPacing CheckpointPacing() => new(CheckpointInterval, LongestCheckpointInterval, IdleCheckpointInterval);
}
