using Messenger.Grains.Support;
using System.Collections.Concurrent;
using System.Text.Json;
using Messenger.Gateway.Protocol;
using Messenger.Grains;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// The sessions this gateway holds, by user. It is this gateway's one grain observer: user grains
/// call <see cref="OnUpdatesAsync"/> with a batch for many users, and each user's frame is queued on each
/// of that user's sockets here (a message is serialised once per batch, see <see cref="UpdateFrames"/>).
/// </summary>
public sealed class ConnectionRegistry : IUpdateObserver
{
    private readonly ConcurrentDictionary<string, ClientSession[]> _byUser = new(StringComparer.Ordinal);
    private readonly Action<UpdateBatch, string, byte[], IReadOnlyList<int>> _deliver;
    private readonly Func<string, bool> _holds;
    private readonly PresenceSubscriptions _subscriptions;

    public ConnectionRegistry(PresenceSubscriptions subscriptions)
    {
        _subscriptions = subscriptions;
        _deliver = Deliver;
        _holds = _byUser.ContainsKey;
    }

    public void Add(ClientSession session)
    {
        _byUser.AddOrUpdate(session.UserId, static (_, s) => [s], static (_, list, s) => [.. list, s], session);
        MessengerMetrics.Sockets.Add(1);
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
            if (done)
            {
                MessengerMetrics.Sockets.Add(-1);
                return;
            }
        }
    }

    /// <summary>A snapshot of users and their sessions (for reconciliation rounds).</summary>
    public KeyValuePair<string, ClientSession[]>[] Snapshot() => _byUser.ToArray();

    /// <summary>Whether <paramref name="session"/> is still held here (it has not been removed on its way out).</summary>
    public bool Holds(ClientSession session) => Array.IndexOf(SessionsOf(session.UserId), session) >= 0;

    /// <summary>The sessions of one user here now.</summary>
    public ClientSession[] SessionsOf(string userId) => _byUser.TryGetValue(userId, out var sessions) ? sessions : [];

    /// <summary>Every session here now.</summary>
    public List<ClientSession> AllSessions()
    {
        var all = new List<ClientSession>();
        foreach (var (_, sessions) in _byUser) all.AddRange(sessions);
        return all;
    }

    /// <summary>Raised when a presence change arrives for a user no socket here watches.</summary>
    public event Action<string>? Unwanted;

    /// <summary>Raised when a user grain says it is deactivating; see <see cref="IUpdateObserver.OnUserReleasedAsync"/>.</summary>
    public event Action<string>? UserReleased;

    public Task OnUserReleasedAsync(string userId)
    {
        UserReleased?.Invoke(userId);
        return Task.CompletedTask;
    }

    /// <summary>A silo checks that this gateway is still there; answering is all it takes.</summary>
    public Task OnHeartbeatAsync() => Task.CompletedTask;

    /// <summary>Raised (before the user grain hears back) when a user's device grants changed; see <see cref="IUpdateObserver.OnDevicesChangedAsync"/>.</summary>
    public event Action<DeviceGrants>? DevicesChanged;

    /// <summary>A device was logged out or the account deleted: the grants first, then the sessions they no longer allow end.</summary>
    public Task OnDevicesChangedAsync(DeviceGrants grants)
    {
        DevicesChanged?.Invoke(grants);
        foreach (var session in SessionsOf(grants.UserId))
        {
            if (!grants.Allows(session.DeviceId, session.Generation)) session.LogOut();
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch)
    {
        UpdateFrames.ForEachUser(batch, _holds, _deliver);
        return Task.FromResult(batch.AskReceived ? Unreceived(batch) : NoneMissed);
    }

    private static readonly IReadOnlyList<string> NoneMissed = [];

    /// <summary>The batch's users no WebSocket of whom took their frame (push notifications still wait for them).</summary>
    private IReadOnlyList<string> Unreceived(UpdateBatch batch)
    {
        List<string>? missed = null;
        string? previous = null;
        foreach (var update in batch.Updates)
        {
            if (ReferenceEquals(update.UserId, previous) || update.UserId == previous) continue;
            previous = update.UserId;
            if (HasSocket(update.UserId) || missed?.Contains(update.UserId) == true) continue;
            (missed ??= []).Add(update.UserId);
        }
        return missed ?? (IReadOnlyList<string>)[];
    }

    private bool HasSocket(string userId)
    {
        if (!_byUser.TryGetValue(userId, out var sessions)) return false;
        foreach (var session in sessions) if (!session.Polled) return true;
        return false;
    }

    private void Deliver(UpdateBatch batch, string userId, byte[] frame, IReadOnlyList<int> indexes)
    {
        if (!_byUser.TryGetValue(userId, out var sessions)) return;
        foreach (var session in sessions) session.EnqueuePush(frame);
        if (!MessengerMetrics.DeliveryDuration.Enabled) return;
        // Commit to queued on this user's sockets, once per message (not per socket).
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < indexes.Count; i++)
        {
            var update = batch.Updates[indexes[i]];
            if (update.MessageIndex >= 0) MessengerMetrics.DeliveryDuration.Record((now - batch.Messages[update.MessageIndex].SentAt).TotalMilliseconds);
        }
    }

    public Task OnPresenceAsync(PresenceStatus status)
    {
        var watchers = _subscriptions.WatchersOf(status.UserId);
        if (watchers.Length > 0)
        {
            var frame = WireJson.ToUtf8Bytes(new PresenceFrame("presence", [status.ToWire()]), WireJson.Context.PresenceFrame);
            foreach (var session in watchers) session.EnqueuePush(frame);
        }
        else
        {
            // A watch nobody here wants any more (its unwatch was lost): let the user's grain drop it.
            Unwanted?.Invoke(status.UserId);
        }
        return Task.CompletedTask;
    }

    public Task OnTypingAsync(string userId, TypingEvent typing)
    {
        if (_byUser.TryGetValue(userId, out var sessions))
        {
            var frame = WireJson.ToUtf8Bytes(typing.ToWire(), WireJson.Context.TypingFrame);
            foreach (var session in sessions) session.EnqueuePush(frame);
        }
        return Task.CompletedTask;
    }
}
