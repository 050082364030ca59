namespace Messenger.Grains.Support;

/// <summary>
/// Decides, at each check, whether the process should return its spare memory now: it has gone quiet (it allocated
/// little since the last check), its resident memory grew well past what the last trim left (by
/// <see cref="MemoryTrimOptions.MinimumGrowthBytes"/> and by half; before the first trim, what start-up left counts as
/// grown), and the last trim is not too recent. Growth by the minimum alone (a slow creep) counts once
/// <see cref="MemoryTrimOptions.SlowGrowthTrimInterval"/> has passed since the last trim. The first check only takes
/// its readings. A plain class: the readings come in, the clock is the caller's.
/// </summary>
public sealed class QuietTrimPolicy(MemoryTrimOptions options)
{
    private const double GrowthFactor = 1.5;

    private bool _started;
    private DateTimeOffset _checkedAt;
    private long _allocatedAtCheck;
    private long _residentAfterTrim;
    private DateTimeOffset? _trimmedAt;

    /// <summary>Takes this check's readings: the bytes allocated so far (a running total) and the resident memory now.</summary>
    public bool ShouldTrim(DateTimeOffset now, long allocatedTotal, long resident)
    {
        if (!_started)
        {
            (_started, _checkedAt, _allocatedAtCheck) = (true, now, allocatedTotal);
            return false;
        }
        var seconds = Math.Max((now - _checkedAt).TotalSeconds, 1e-3);
        var rate = (allocatedTotal - _allocatedAtCheck) / seconds;
        (_checkedAt, _allocatedAtCheck) = (now, allocatedTotal);
        if (rate >= options.QuietAllocationBytesPerSecond) return false;
        if (_trimmedAt is { } last && now - last < options.MinimumTrimInterval) return false;
        if (resident < _residentAfterTrim + options.MinimumGrowthBytes) return false;
        if (resident >= _residentAfterTrim * GrowthFactor) return true;
        return options.SlowGrowthTrimInterval > TimeSpan.Zero && _trimmedAt is { } trimmed && now - trimmed >= options.SlowGrowthTrimInterval;
    }

    /// <summary>A trim ran: what it left resident is the new floor, and its own allocations do not count against quiet.</summary>
    public void Trimmed(DateTimeOffset now, long allocatedTotal, long residentAfter)
    {
        (_trimmedAt, _checkedAt, _allocatedAtCheck, _residentAfterTrim) = (now, now, allocatedTotal, residentAfter);
    }
}
