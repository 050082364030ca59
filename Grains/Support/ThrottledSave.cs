namespace Messenger.Grains.Support;

/// <summary>
/// Saves a progress mark off the hot path: at most one save in flight and at most one per
/// interval; marks requested meanwhile collapse into the newest. The first request after a quiet
/// interval saves at once. A mark only bounds how much is replayed after a crash, so a late or
/// failed save costs replay work, never data. For use inside one grain activation.
/// </summary>
internal sealed class ThrottledSave(Func<long, Task> save, TimeSpan interval, TimeProvider time, Action<Exception, long> onError)
{
    private long _requested;
    private long _saved;
    private long _lastSaveAt = long.MinValue;
    private Task? _running;
    private Task<bool>? _saving;

    /// <summary>The newest mark saved so far.</summary>
    public long Saved => _saved;

    /// <summary>Asks for <paramref name="mark"/> to be saved (ignored when not above the last request).</summary>
    public void Request(long mark)
    {
        if (mark <= _requested) return;
        _requested = mark;
        if (_running is null || _running.IsCompleted) _running = RunAsync();
    }

    /// <summary>Saves the newest requested mark now, after a save in flight, without waiting out the interval (deactivation).</summary>
    public async Task FlushAsync()
    {
        if (_saving is { IsCompleted: false } saving) await saving;
        if (_requested > _saved) await SaveAsync(_requested);
    }

    private async Task RunAsync()
    {
        while (_requested > _saved)
        {
            if (_lastSaveAt != long.MinValue)
            {
                var wait = interval - time.GetElapsedTime(_lastSaveAt);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, time);
            }
            if (_saving is { IsCompleted: false } saving) await saving; // a flush got there first
            if (_requested > _saved && !await SaveAsync(_requested)) return;
        }
    }

    private Task<bool> SaveAsync(long mark) => _saving = SaveOnceAsync(mark);

    private async Task<bool> SaveOnceAsync(long mark)
    {
        _lastSaveAt = time.GetTimestamp();
        try
        {
            await save(mark);
            if (mark > _saved) _saved = mark;
            return true;
        }
        catch (Exception ex)
        {
            onError(ex, mark);
            return false; // the next request tries again
        }
    }
}
