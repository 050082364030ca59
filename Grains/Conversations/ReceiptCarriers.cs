using Messenger.Grains.Support;

namespace Messenger.Grains.Conversations;

/// <summary>
/// Paces the receipts updates of one conversation's senders, however they travel (carried by a delivery to the
/// sender, or sent on their own by the flush): at most one on its way to a sender at a time, so that counts taken
/// later never reach the sender's log before counts taken earlier (a sender's counts only grow); and at most one
/// per interval, so that carrying never sends more updates than the flush alone would. Whoever finds a sender busy
/// or not due leaves them for later; a flush that found them busy is owed a new run when the update ends. A sender
/// whose update failed is not due again until a backoff (<see cref="RetryBackoff"/>, per sender) has passed, so one
/// member whose log keeps failing delays nobody else's receipts. For use inside one grain activation.
/// </summary>
internal sealed class ReceiptCarriers(TimeSpan interval, TimeProvider time)
{
    // Senders with an update on its way → whether a flush left them out meanwhile.
    private readonly Dictionary<string, bool> _busy = new(StringComparer.Ordinal);
    // When each sender last got an update (entries older than the interval mean nothing).
    private readonly Dictionary<string, long> _lastSent = new(StringComparer.Ordinal);
    // Senders whose last updates failed: how many in a row, and when the last one did (made on the first failure).
    private Dictionary<string, (int Count, long At)>? _failed;

    /// <summary>Whether a receipts update is on its way to <paramref name="userId"/>.</summary>
    public bool Busy(string userId) => _busy.ContainsKey(userId);

    private bool _unpaced;

    /// <summary>
    /// Whether <paramref name="userId"/> may get an update now: none on its way, none arrived within the interval, and
    /// the backoff after a failed one over (unless <see cref="StopPacing"/> was called).
    /// </summary>
    public bool Due(string userId) =>
        !_busy.ContainsKey(userId) && (_unpaced || (!Recent(userId) && !BackingOff(userId)));

    private bool Recent(string userId) => _lastSent.TryGetValue(userId, out var at) && time.GetElapsedTime(at) < interval;

    /// <summary>Whether the last update to <paramref name="userId"/> failed and their backoff is not over.</summary>
    public bool BackingOff(string userId) =>
        _failed is not null && _failed.TryGetValue(userId, out var failed) && time.GetElapsedTime(failed.At) < RetryBackoff.After(interval, failed.Count);

    /// <summary>How long until the first sender now backing off is due again; null when none is.</summary>
    public TimeSpan? NextBackoffEnd()
    {
        if (_failed is null) return null;
        TimeSpan? next = null;
        foreach (var (_, failed) in _failed)
        {
            var left = RetryBackoff.After(interval, failed.Count) - time.GetElapsedTime(failed.At);
            if (left <= TimeSpan.Zero) continue;
            if (next is null || left < next) next = left;
        }
        return next;
    }

    /// <summary>From now on every sender without an update on its way is due (the conversation's last flush: nothing would send later).</summary>
    public void StopPacing() => _unpaced = true;

    /// <summary>An update to <paramref name="userId"/> starts on its way; the sender must not be busy.</summary>
    public void Begin(string userId) => _busy.Add(userId, false);

    /// <summary>
    /// A flush leaves out <paramref name="userId"/>'s counts if an update is on its way to them (true);
    /// <see cref="End"/> then says that the flush must run again.
    /// </summary>
    public bool LeaveOut(string userId)
    {
        if (!_busy.ContainsKey(userId)) return false;
        _busy[userId] = true;
        return true;
    }

    /// <summary>
    /// The update to <paramref name="userId"/> ended: it <paramref name="arrived"/> in their log, or failed (then they are
    /// not due until the backoff is over). True when a flush left them out meanwhile.
    /// </summary>
    public bool End(string userId, bool arrived)
    {
        if (!_busy.Remove(userId, out var leftOut)) return false;
        if (arrived)
        {
            if (_lastSent.Count >= 64) Forget();
            _lastSent[userId] = time.GetTimestamp();
            if (_failed is not null && _failed.Remove(userId) && _failed.Count == 0) _failed = null;
        }
        else
        {
            _failed ??= new(StringComparer.Ordinal);
            _failed[userId] = (_failed.TryGetValue(userId, out var failed) ? failed.Count + 1 : 1, time.GetTimestamp());
        }
        return leftOut;
    }

    private void Forget()
    {
        var old = new List<string>();
        foreach (var (userId, at) in _lastSent) if (time.GetElapsedTime(at) >= interval) old.Add(userId);
        foreach (var userId in old) _lastSent.Remove(userId);
    }
}
