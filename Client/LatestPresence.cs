namespace Messenger.Client;

/// <summary>
/// The newest presence push seen for each watched user, so that the answer to a subscribe is never
/// older than a push that arrived while it was on its way (PROTOCOL 7: the two travel separately, and
/// a push that arrives between a subscribe and its answer is the newer of the two). Thread-safe.
/// </summary>
internal sealed class LatestPresence
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Seen, Presence Presence)> _latest = new(StringComparer.Ordinal);
    private long _seen;

    /// <summary>Records a pushed change.</summary>
    public void Pushed(Presence presence)
    {
        lock (_lock) _latest[presence.UserId] = (++_seen, presence);
    }

    /// <summary>Marks the start of a subscribe to <paramref name="userIds"/>; pushes of other users are forgotten.</summary>
    public long Begin(IReadOnlyCollection<string> userIds)
    {
        lock (_lock)
        {
            var keep = new HashSet<string>(userIds, StringComparer.Ordinal);
            foreach (var userId in _latest.Keys.Where(u => !keep.Contains(u)).ToList()) _latest.Remove(userId);
            return _seen;
        }
    }

    /// <summary>The answer, with each entry replaced by a push that came after <paramref name="begun"/>.</summary>
    public IReadOnlyList<Presence> Merge(IReadOnlyList<Presence> answer, long begun)
    {
        lock (_lock)
        {
            return [.. answer.Select(p => _latest.TryGetValue(p.UserId, out var last) && last.Seen > begun ? last.Presence : p)];
        }
    }
}
