namespace Messenger.Tests.Support;

/// <summary>
/// Waits for conditions over state guarded by one lock: whoever changes the state calls
/// <see cref="Signal"/> (holding the lock), and each waiter completes once its condition holds, or
/// fails after a deadline. A barrier instead of polling.
/// </summary>
public sealed class Conditions(Lock gate)
{
    private readonly List<(Func<bool> Done, TaskCompletionSource Signal)> _waiters = [];

    /// <summary>Completes once <paramref name="done"/> holds (checked under the lock); fails after <paramref name="timeout"/>.</summary>
    public Task WaitFor(Func<bool> done, TimeSpan? timeout = null)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (done()) return Task.CompletedTask;
            _waiters.Add((done, signal));
        }
        return signal.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
    }

    /// <summary>Re-checks every waiter; call with the lock held, after changing the state.</summary>
    public void Signal()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Done())
            {
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}
