using System.Collections.Concurrent;

namespace Messenger.Grains.Presence;

/// <summary>
/// The users of this silo who have a live device session now: <see cref="PresenceUpkeep"/> records them all as
/// seen once a lease, in one write per database, so that after a crash "last seen" is off by at most about a lease
/// (rather than showing when they came online). Each user grain adds and removes its own user.
/// </summary>
public sealed class OnlineUsers
{
    private readonly ConcurrentDictionary<string, byte> _users = new(StringComparer.Ordinal);

    public void Set(string userId, bool online)
    {
        if (online) _users.TryAdd(userId, 0);
        else _users.TryRemove(userId, out _);
    }

    public string[] Snapshot() => [.. _users.Keys];
}
