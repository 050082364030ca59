namespace Messenger.Grains.Support;

/// <summary>
/// Saves a progress mark off the hot path: at most one save in flight and at most one per
/// interval; marks requested meanwhile collapse into the newest. The first request after a quiet
/// interval saves at once. A failed save is tried again on its own, after a backoff (<see cref="RetryBackoff"/>:
/// one interval but at least a second, doubling to a minute or the interval), so what it carries does not wait
/// for another request to come; a success goes back to the interval. (A mark only bounds how much is replayed after a crash, so a late
/// or failed save of one costs replay work, never data; a conversation's receipts to their senders are sent
/// through one too.) For use inside one grain activation: it runs on the
/// scheduler of the code that requests (the grain's), and its one timer, made once and re-armed
/// for each wait, hands back to that scheduler. (A delay per wait, as before, left a timer, a
/// promise and two state machines alive for each interval of each conversation and user: at 1,000
/// msgs/s, thousands of objects that every young collection found alive and promoted.)
/// </summary>
internal sealed class ThrottledSave(Func<long, Task> save, TimeSpan interval, TimeProvider time, Action<Exception, long> onError)
{
    private long _requested;
    private long _saved;
    private long _lastSaveAt = long.MinValue;
    private bool _saveInFlight;
    private bool _waiting;
    private ITimer? _timer;
    private TaskScheduler? _scheduler;
    private Task? _saving;
    private int _failures;
    private bool _stopped;

    /// <summary>The newest mark saved so far.</summary>
    public long Saved => _saved;

    /// <summary>Asks for <paramref name="mark"/> to be saved (ignored when not above the last request).</summary>
    public void Request(long mark)
    {
        if (mark <= _requested) return;
        _requested = mark;
        Pump();
    }

    /// <summary>
    /// Saves the newest requested mark now, after a save in flight, without waiting out the interval or a backoff
    /// (deactivation). Does nothing once stopped.
    /// </summary>
    public async Task FlushAsync()
    {
        while (_saveInFlight) await _saving!;
        if (!_stopped && _requested > _saved) await SaveAsync(_requested);
    }

    /// <summary>
    /// No save or retry starts after this, a flush included (the activation is going away, after its last
    /// <see cref="FlushAsync"/>; or what it saves is being deleted): one from a gone activation could write over what
    /// its successor saved. A save already running ends as it will.
    /// </summary>
    public void Stop()
    {
        _stopped = true;
        _timer?.Dispose();
    }

    /// <summary>The wait from the start of one save to the next, or after failures from the last failure: a backoff.</summary>
    private TimeSpan Spacing => _failures == 0 ? interval : RetryBackoff.After(interval, _failures);

    /// <summary>
    /// Starts a save, or the wait for one, when a mark is owed and neither is under way (either pumps again when it
    /// ends). At the end of a save (<paramref name="saveNow"/> false) it only waits, if for no time at all: a save
    /// started inside the one ending would run beside a flush waiting for that one.
    /// </summary>
    private void Pump(bool saveNow = true)
    {
        if (_stopped || _saveInFlight || _waiting || _requested <= _saved) return;
        var wait = _lastSaveAt == long.MinValue ? TimeSpan.Zero : Spacing - time.GetElapsedTime(_lastSaveAt);
        if (wait <= TimeSpan.Zero && saveNow)
        {
            _ = SaveAsync(_requested);
            return;
        }
        _waiting = true;
        _scheduler = TaskScheduler.Current;
        if (_timer is null)
        {
            // Not the execution context of whichever request first armed it, kept for the activation's life.
            using (ExecutionContext.SuppressFlow())
            {
                _timer = time.CreateTimer(static self => ((ThrottledSave)self!).Elapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
        _timer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>On the timer's thread: back to the requesting code's scheduler (the grain's turn) to carry on.</summary>
    private void Elapsed() =>
        Task.Factory.StartNew(static self => ((ThrottledSave)self!).WaitOver(), this, CancellationToken.None, TaskCreationOptions.None, _scheduler!);

    private void WaitOver()
    {
        _waiting = false;
        if (_stopped) return;
        // The interval is over: save, without measuring it again (a timer may fire a fraction of a millisecond early,
        // and a wait of less than a millisecond would fire at once, and again, until the fraction passed). A save in
        // flight (a flush) pumps when it ends.
        if (!_saveInFlight && _requested > _saved) _ = SaveAsync(_requested);
    }

    private Task SaveAsync(long mark) => _saving = SaveOnceAsync(mark);

    private async Task SaveOnceAsync(long mark)
    {
        _saveInFlight = true;
        _lastSaveAt = time.GetTimestamp();
        try
        {
            await save(mark);
            if (mark > _saved) _saved = mark;
            _failures = 0;
        }
        catch (Exception ex)
        {
            _failures++;
            _lastSaveAt = time.GetTimestamp(); // the backoff counts from the failure (a call may fail only after a long timeout)
            _saveInFlight = false;
            onError(ex, mark);
            Pump(saveNow: false); // tried again after the backoff, with whatever was requested meanwhile
            return;
        }
        _saveInFlight = false;
        Pump(saveNow: false); // marks requested meanwhile: after the interval
    }
}
