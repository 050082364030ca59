namespace Messenger.Grains.Support;

/// <summary>
/// When a process hands memory back to the operating system after a busy spell. Section <c>Memory</c>, read by
/// gateways and silos alike.
/// </summary>
public sealed class MemoryTrimOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Memory";

    /// <summary>
    /// Return the garbage collector's spare memory to the operating system once the process has gone quiet after
    /// its memory grew (a burst of connections, a spell of load). Off: the collector keeps what it once needed.
    /// </summary>
    public bool TrimWhenQuiet { get; set; } = true;

    /// <summary>How often the process looks at its allocation rate and its memory.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A check interval in which the process allocated less than this, per second, is quiet.</summary>
    public long QuietAllocationBytesPerSecond { get; set; } = 1L << 20;

    /// <summary>
    /// The resident memory must have grown by at least this many bytes since the last trim (and by half) before
    /// another: a trim is a full compacting collection, a pause, worth it only for a real amount.
    /// </summary>
    public long MinimumGrowthBytes { get; set; } = 32L << 20;

    /// <summary>The shortest time between two trims.</summary>
    public TimeSpan MinimumTrimInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A process whose resident memory creeps up while it stays quiet (an idle server's keep-alive pings and timers
    /// leave a little more behind each minute) is trimmed once it grew by <see cref="MinimumGrowthBytes"/>, even if not
    /// by half, when this long has passed since the last trim; 0: only growth by half counts.
    /// </summary>
    public TimeSpan SlowGrowthTrimInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// When the garbage collector has not run for a whole check interval and the process allocated at least this many
    /// bytes since it last ran (counted from the first check after it ran), but less than this in the last interval
    /// alone, collect the young generations (a short pause) so that a slowly allocating process sweeps its garbage
    /// while it is small instead of touching new memory; 0: never.
    /// </summary>
    public long CollectAfterBytes { get; set; } = 8L << 20;

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (CheckInterval < TimeSpan.FromMilliseconds(100)) throw new InvalidOperationException($"{SectionName}:{nameof(CheckInterval)} must be at least 00:00:00.1.");
        if (QuietAllocationBytesPerSecond <= 0) throw new InvalidOperationException($"{SectionName}:{nameof(QuietAllocationBytesPerSecond)} must be positive.");
        if (MinimumGrowthBytes < 0) throw new InvalidOperationException($"{SectionName}:{nameof(MinimumGrowthBytes)} must not be negative.");
        if (MinimumTrimInterval < TimeSpan.Zero) throw new InvalidOperationException($"{SectionName}:{nameof(MinimumTrimInterval)} must not be negative.");
        if (SlowGrowthTrimInterval < TimeSpan.Zero) throw new InvalidOperationException($"{SectionName}:{nameof(SlowGrowthTrimInterval)} must not be negative.");
        if (CollectAfterBytes < 0) throw new InvalidOperationException($"{SectionName}:{nameof(CollectAfterBytes)} must not be negative.");
    }
}
