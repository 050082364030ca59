using Messenger.Grains.Storage;
using Messenger.Grains.Users;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Presence;

/// <summary>
/// One user's live side: device sessions (leases), the presence derived from them and published to
/// the watching gateways, "last seen" kept in the store, and the conversations told when the user
/// gains or loses their last live device. One grain timer fires at the next deadline (a settle or
/// grace delay running out, a lease expiring). For use inside one grain activation.
/// </summary>
internal sealed class UserPresence
{
    private readonly Grain _grain;
    private readonly IGrainFactory _grains;
    private readonly IUserLogStore _store;
    private readonly MessengerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PresenceWatchers _watchers;
    private readonly LivenessReports _reports;
    private IGrainTimer? _timer;
    private DateTimeOffset _aliveRecordedAt;

    public UserPresence(Grain grain, IGrainFactory grains, IUserLogStore store, MessengerOptions options, PresenceOptions presence, TimeProvider time, ILogger logger)
    {
        _grain = grain;
        _grains = grains;
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        Devices = new DeviceSessions(options.DeviceLease, presence.OnlineSettle, presence.OfflineGrace);
        _watchers = new PresenceWatchers(options.DeviceLease);
        _reports = new LivenessReports(TimeSpan.FromMinutes(20), time);
    }

    public DeviceSessions Devices { get; }

    /// <summary>False for a grain without an account: nothing is stored for it.</summary>
    public bool Stored { get; set; }

    // At the store's precision (ms), so a "last seen" read from memory equals the one read back later.
    public DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private string UserId => _grain.GetPrimaryKeyString();

    public PresenceStatus Status => new(UserId, Devices.PublishedOnline, Devices.LastSeen);

    /// <summary>The gateways holding a live session of the user, each once (none: no allocation).</summary>
    public IReadOnlyList<IUpdateObserver> LiveGateways() => Devices.Count == 0 ? [] : Devices.LiveGateways(Now);

    /// <summary>Whether the user is live, remembering that <paramref name="conversationId"/> now knows it.</summary>
    public bool ReportTo(string conversationId)
    {
        var live = Devices.AnyLive(Now);
        Told(conversationId, live);
        return live;
    }

    /// <summary><paramref name="conversationId"/> was just told whether the user is live.</summary>
    public void Told(string conversationId, bool live) => _reports.Record(conversationId, live);

    public Task AttachAsync(string connectionId, string deviceId, IUpdateObserver gateway)
    {
        Devices.Attach(connectionId, deviceId, gateway, Now);
        return EvaluateAsync();
    }

    /// <summary>Ends a session; returns its device (null when it was not known).</summary>
    public async Task<string?> DetachAsync(string connectionId)
    {
        var deviceId = Devices.Detach(connectionId, Now);
        await EvaluateAsync();
        return deviceId;
    }

    /// <summary>Ends every session of a logged-out device at once; returns the gateways that held one.</summary>
    public async Task<List<IUpdateObserver>> EndDeviceAsync(string deviceId)
    {
        var gateways = Devices.DetachDevice(deviceId, Now);
        await EvaluateAsync();
        return gateways;
    }

    /// <summary>
    /// The account is being deleted: every session ends, watchers are told at once that the user is offline
    /// (with no "last seen"), and nothing is stored for the user from now on. Returns the gateways that held a session.
    /// </summary>
    public List<IUpdateObserver> EndAll()
    {
        var now = Now;
        Stored = false;
        var gateways = Devices.DetachDevice(null, now);
        Devices.Evaluate(now);
        _watchers.Publish(new PresenceStatus(UserId, false, null), now);
        _timer?.Dispose();
        _timer = null;
        return gateways;
    }

    public async Task<IReadOnlyList<string>> RenewAsync(IReadOnlyList<string> connectionIds)
    {
        var now = Now;
        var unknown = Devices.Renew(connectionIds, now);
        if (Stored && Devices.AnyLive(now) && now - _aliveRecordedAt >= _options.DeviceLease)
        {
            // So that after a crash "last seen" is off by at most one lease, not by the whole session.
            _aliveRecordedAt = now;
            await _store.SetLastSeenAsync(UserId, now);
        }
        await EvaluateAsync();
        return unknown ?? (IReadOnlyList<string>)[];
    }

    public PresenceStatus Watch(IUpdateObserver gateway)
    {
        _watchers.Watch(gateway, Now);
        return Status;
    }

    public void Unwatch(IUpdateObserver gateway) => _watchers.Unwatch(gateway);

    /// <summary>
    /// This activation is going away (its silo stops, or it was collected): device sessions and watches
    /// live only here, so tell each gateway holding one to attach again at once, to the next activation,
    /// rather than at its next lease renewal.
    /// </summary>
    public void Release(IEnumerable<IUpdateObserver> deviceWatchers)
    {
        var gateways = Devices.LiveGateways(Now);
        foreach (var gateway in _watchers.Gateways.Concat(deviceWatchers))
        {
            if (!gateways.Contains(gateway)) gateways.Add(gateway);
        }
        foreach (var gateway in gateways) gateway.OnUserReleasedAsync(UserId).Ignore();
    }

    /// <summary>
    /// Applies the debounce rules now; tells watchers of a published change and conversations of a
    /// change in liveness; re-arms the timer.
    /// </summary>
    private async Task EvaluateAsync()
    {
        var now = Now;
        var change = Devices.Evaluate(now);
        if (change is PresenceChange.WentOnline or PresenceChange.WentOffline) _watchers.Publish(Status, now);
        TellConversations(Devices.AnyLive(now));
        // Armed before the last-seen write, which may fail: a failed write must not leave the next deadline (a
        // lease running out, a debounce ending) unevaluated, with the user shown online for good.
        if (Devices.NextDeadline is { } deadline)
        {
            var due = deadline - now;
            if (due < TimeSpan.Zero) due = TimeSpan.Zero;
            _timer ??= _grain.RegisterGrainTimer(_ => EvaluateAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
        if (Stored)
        {
            if (change is PresenceChange.WentOffline or PresenceChange.LastSeenChanged)
            {
                await _store.SetLastSeenAsync(UserId, Devices.LastSeen!.Value);
            }
            else if (change is PresenceChange.WentOnline)
            {
                // Seen now; if the process dies while they are online, this is what "last seen" shows after.
                _aliveRecordedAt = now;
                await _store.SetLastSeenAsync(UserId, now);
            }
        }
    }

    /// <summary>Tells the conversations that last heard otherwise (so their acks' offline lists are right).</summary>
    private void TellConversations(bool live)
    {
        var stale = _reports.TakeStale(live);
        // One-way calls: informational only, and the conversation corrects itself on its next delivery.
        foreach (var conversationId in stale) _grains.GetGrain<IConversationGrain>(conversationId).MemberLivenessChangedAsync(UserId, live).Ignore();
    }
}
