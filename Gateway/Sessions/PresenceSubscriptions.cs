namespace Messenger.Gateway.Sessions;

/// <summary>
/// Which of this gateway's sockets watch which users. The gateway registers itself once with each
/// watched user's grain, however many local sockets watch that user, and fans a change out here.
/// </summary>
public sealed class PresenceSubscriptions
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<ClientSession>> _watchers = new(StringComparer.Ordinal);
    private readonly Dictionary<ClientSession, HashSet<string>> _targets = [];

    /// <summary>
    /// Replaces a socket's subscription. Returns the users this gateway must now watch (first local
    /// watcher) and those it may stop watching (no local watcher left).
    /// </summary>
    public (List<string> Watch, List<string> Unwatch) Replace(ClientSession session, IReadOnlyCollection<string> userIds)
    {
        var watch = new List<string>();
        var unwatch = new List<string>();
        lock (_lock)
        {
            var next = new HashSet<string>(userIds, StringComparer.Ordinal);
            if (_targets.TryGetValue(session, out var previous))
            {
                foreach (var userId in previous)
                {
                    if (!next.Contains(userId) && RemoveWatcher(userId, session)) unwatch.Add(userId);
                }
            }
            foreach (var userId in next)
            {
                if (previous?.Contains(userId) == true) continue;
                if (!_watchers.TryGetValue(userId, out var sessions)) _watchers[userId] = sessions = [];
                if (sessions.Count == 0) watch.Add(userId);
                sessions.Add(session);
            }
            if (next.Count == 0) _targets.Remove(session);
            else _targets[session] = next;
        }
        return (watch, unwatch);
    }

    /// <summary>Drops a closed socket's subscription; returns the users no local socket watches any more.</summary>
    public List<string> Remove(ClientSession session) => Replace(session, []).Unwatch;

    /// <summary>The sockets watching <paramref name="userId"/>.</summary>
    public ClientSession[] WatchersOf(string userId)
    {
        lock (_lock) return _watchers.TryGetValue(userId, out var sessions) ? [.. sessions] : [];
    }

    /// <summary>Every user watched from this gateway (for reconciliation rounds).</summary>
    public string[] WatchedUsers()
    {
        lock (_lock) return [.. _watchers.Keys];
    }

    private bool RemoveWatcher(string userId, ClientSession session)
    {
        if (!_watchers.TryGetValue(userId, out var sessions)) return false;
        sessions.Remove(session);
        if (sessions.Count > 0) return false;
        _watchers.Remove(userId);
        return true;
    }
}
