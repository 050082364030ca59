namespace Messenger.Grains.Support;

/// <summary>
/// Runs one batch at a time: items added while a batch runs form the next batch, so the work per
/// batch is amortised over everything that arrived meanwhile (group commit). Not thread-safe: for
/// use inside one grain activation, whose turns never overlap.
/// </summary>
internal sealed class BatchingLoop<T>(Func<List<T>, Task> runBatch)
{
    private List<T> _pending = [];
    private bool _running;

    /// <summary>Queues an item; starts a batch now if none is running.</summary>
    public void Add(T item)
    {
        _pending.Add(item);
        if (!_running) _ = RunAsync();
    }

    /// <summary>Queues items that must go into one batch together (they are committed all or none).</summary>
    public void AddRange(IEnumerable<T> items)
    {
        _pending.AddRange(items);
        if (!_running) _ = RunAsync();
    }

    /// <summary>Takes every queued item out (e.g. to fail them); the loop carries on with new ones.</summary>
    public List<T> TakeAll()
    {
        var taken = _pending;
        _pending = [];
        return taken;
    }

    private async Task RunAsync()
    {
        _running = true;
        try
        {
            while (_pending.Count > 0)
            {
                var batch = _pending;
                _pending = [];
                await runBatch(batch);
            }
        }
        finally
        {
            _running = false;
        }
    }
}
