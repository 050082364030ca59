using System.Collections.Concurrent;
using System.Text.Json;
using Messenger.Gateway.Protocol;
using Messenger.Grains;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// The sessions this gateway holds, by user. It is this gateway's one grain observer: user grains
/// call <see cref="OnUpdatesAsync"/> and the update is serialised once and queued on each of the user's sockets here.
/// </summary>
public sealed class ConnectionRegistry(PresenceSubscriptions subscriptions) : IUpdateObserver
{
    private readonly ConcurrentDictionary<string, ClientSession[]> _byUser = new(StringComparer.Ordinal);

    public void Add(ClientSession session)
    {
        _byUser.AddOrUpdate(session.UserId, static (_, s) => [s], static (_, list, s) => [.. list, s], session);
    }

    public void Remove(ClientSession session)
    {
        while (_byUser.TryGetValue(session.UserId, out var list))
        {
            var index = Array.IndexOf(list, session);
            if (index < 0) return;
            var next = list.Length == 1 ? null : list.Where(s => s != session).ToArray();
            var done = next is null
                ? _byUser.TryRemove(new KeyValuePair<string, ClientSession[]>(session.UserId, list))
                : _byUser.TryUpdate(session.UserId, next, list);
            if (done) return;
        }
    }

    /// <summary>A snapshot of users and their sessions (for lease renewal).</summary>
    public IEnumerable<KeyValuePair<string, ClientSession[]>> Snapshot() => _byUser.ToArray();

    public Task OnUpdatesAsync(string userId, IReadOnlyList<UserUpdate> updates)
    {
        if (_byUser.TryGetValue(userId, out var sessions))
        {
            var frame = JsonSerializer.SerializeToUtf8Bytes(new UpdatesFrame("updates", updates.ToWire()), WireJson.Context.UpdatesFrame);
            foreach (var session in sessions) session.EnqueuePush(frame);
        }
        return Task.CompletedTask;
    }

    public Task OnPresenceAsync(PresenceStatus status)
    {
        var watchers = subscriptions.WatchersOf(status.UserId);
        if (watchers.Length > 0)
        {
            var frame = JsonSerializer.SerializeToUtf8Bytes(new PresenceFrame("presence", [status.ToWire()]), WireJson.Context.PresenceFrame);
            foreach (var session in watchers) session.EnqueuePush(frame);
        }
        return Task.CompletedTask;
    }

    public Task OnTypingAsync(string userId, TypingEvent typing)
    {
        if (_byUser.TryGetValue(userId, out var sessions))
        {
            var frame = JsonSerializer.SerializeToUtf8Bytes(typing.ToWire(), WireJson.Context.TypingFrame);
            foreach (var session in sessions) session.EnqueuePush(frame);
        }
        return Task.CompletedTask;
    }
}
