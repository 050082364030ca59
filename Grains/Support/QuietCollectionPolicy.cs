namespace Messenger.Grains.Support;

/// <summary>
/// Decides, at each check, whether to collect the young generations now: the garbage collector has not run since the
/// last check, the process has allocated at least <see cref="MemoryTrimOptions.CollectAfterBytes"/> since it last ran
/// (counted from the first check after it ran), and less than that in the last interval alone: it allocates slowly. A
/// process that allocates slowly (an idle server: timers, metrics, keep-alive pings) would otherwise touch new memory for minutes before the collector's own budget, up to hundreds of MiB when little survives, runs out; collected
/// early, its garbage is swept while small and the same memory is used again. Under load the collector runs between
/// checks, or allocates that much within one interval (a machine with many heaps and budgets to match), and this never
/// fires. A plain class: the readings come in.
/// </summary>
public sealed class QuietCollectionPolicy(MemoryTrimOptions options)
{
    private int _collections = -1; // none seen yet: the first check only reads
    private long _allocatedSince;
    private long _allocatedAtCheck;

    /// <summary>Takes this check's readings: the bytes allocated so far (a running total) and the collections so far.</summary>
    public bool ShouldCollect(long allocatedTotal, int collections)
    {
        if (options.CollectAfterBytes <= 0) return false;
        var lastInterval = allocatedTotal - _allocatedAtCheck;
        _allocatedAtCheck = allocatedTotal;
        if (collections != _collections)
        {
            // The first check, or the collector ran since the last one: count from here.
            Collected(allocatedTotal, collections);
            return false;
        }
        return allocatedTotal - _allocatedSince >= options.CollectAfterBytes && lastInterval < options.CollectAfterBytes;
    }

    /// <summary>A collection ran (this one, or a trim's): count from here.</summary>
    public void Collected(long allocatedTotal, int collections) =>
        (_collections, _allocatedSince, _allocatedAtCheck) = (collections, allocatedTotal, allocatedTotal);
}
