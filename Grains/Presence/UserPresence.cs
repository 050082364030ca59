using Messenger.Grains.Storage;
using Messenger.Grains.Users;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Presence;

/// <summary>
/// One user's live side: device sessions, the presence derived from them and published to the watching
/// gateways, "last seen" kept in the store, and the conversations told when the user gains or loses their
/// last live device. Sessions and watches last while their gateway's lease on this silo does
/// (<see cref="GatewayLeases"/>): the user holds each such lease. One grain timer fires at the next deadline
/// (a settle or grace delay running out) and, while the user holds a lease, at least every keep-alive period,
/// which keeps the activation from being collected. For use inside one grain activation.
/// </summary>
internal sealed class UserPresence
{
    private readonly Grain _grain;
    private readonly IGrainFactory _grains;
    private readonly IUserLogStore _store;
    private readonly GatewayLeases _leases;
    private readonly OnlineUsers _online;
    private readonly TimeProvider _time;
    private readonly PresenceWatchers _watchers = new();
    private readonly LivenessReports _reports;
    private Dictionary<IUpdateObserver, GatewayLease>? _held; // the leases held here (made on the first)
    private IGrainTimer? _timer;
    private bool _listedOnline;

    /// <param name="lost">Told of each session that ended with its gateway: its device, and when the gateway was last heard from.</param>
    /// <param name="userId">The grain's key (its own copy, decoded once).</param>
    public UserPresence(Grain grain, string userId, IGrainFactory grains, IUserLogStore store, GatewayLeases leases, OnlineUsers online, PresenceOptions presence, TimeProvider time,
        Action<string, DateTimeOffset> lost)
    {
        _grain = grain;
        UserId = userId;
        _grains = grains;
        _store = store;
        _leases = leases;
        _online = online;
        _time = time;
        Devices = new DeviceSessions(presence.OnlineSettle, presence.OfflineGrace, lost);
        _reports = new LivenessReports(TimeSpan.FromMinutes(20), time);
    }

    public DeviceSessions Devices { get; }

    /// <summary>False for a grain without an account: nothing is stored for it.</summary>
    public bool Stored { get; set; }

    // At the store's precision (ms), so a "last seen" read from memory equals the one read back later.
    public DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private string UserId { get; }

    public PresenceStatus Status => new(UserId, Devices.PublishedOnline, Devices.LastSeen);

    /// <summary>The gateways holding a live session of the user, each once (none, or the same as last time: no allocation).</summary>
    public IReadOnlyList<IUpdateObserver> LiveGateways() => Devices.Count == 0 ? [] : Devices.LiveGateways();

    /// <summary>Whether the user is live, remembering that <paramref name="conversationId"/> now knows it.</summary>
    public bool ReportTo(string conversationId)
    {
        var live = Devices.AnyLive();
        Told(conversationId, live);
        return live;
    }

    /// <summary><paramref name="conversationId"/> was just told whether the user is live.</summary>
    public void Told(string conversationId, bool live) => _reports.Record(conversationId, live);

    public Task AttachAsync(string connectionId, string deviceId, IUpdateObserver gateway)
    {
        Devices.Attach(connectionId, deviceId, Hold(gateway));
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
        _watchers.Publish(new PresenceStatus(UserId, false, null));
        ListOnline(false);
        Tidy();
        _timer?.Dispose();
        _timer = null;
        return gateways;
    }

    /// <summary>The gateway holding <paramref name="connectionIds"/> checks them; returns those this activation has no live session of.</summary>
    public IReadOnlyList<string> Check(IReadOnlyList<string> connectionIds) => Devices.Check(connectionIds, Now) ?? (IReadOnlyList<string>)[];

    /// <summary>A gateway holding something of this user was given up by the silo: end what it held.</summary>
    public Task GatewayLostAsync() => EvaluateAsync();

    public PresenceStatus Watch(IUpdateObserver gateway)
    {
        _watchers.Watch(Hold(gateway));
        return Status;
    }

    public void Unwatch(IUpdateObserver gateway)
    {
        _watchers.Unwatch(gateway);
        Tidy();
    }

    /// <summary>
    /// This activation is going away (its silo stops, or it was collected): device sessions and watches
    /// live only here, so tell each gateway holding one to attach again at once, to the next activation;
    /// and let go of this silo's leases of them.
    /// </summary>
    public void Release(IEnumerable<IUpdateObserver> deviceWatchers)
    {
        var gateways = new List<IUpdateObserver>(Devices.LiveGateways());
        foreach (var gateway in _watchers.Gateways.Concat(deviceWatchers))
        {
            if (!gateways.Contains(gateway)) gateways.Add(gateway);
        }
        foreach (var gateway in gateways) gateway.OnUserReleasedAsync(UserId).Ignore();
        if (_held is not null) foreach (var lease in _held.Values) _leases.Let(lease, UserId);
        _held = null;
        ListOnline(false);
    }

    /// <summary>The gateway just called with a session or watch: the user holds its (current) lease here.</summary>
    private GatewayLease Hold(IUpdateObserver gateway)
    {
        var lease = _leases.Hold(gateway, UserId, Now);
        if (_held is null)
        {
            _held = [];
            Arm(Now);
        }
        _held[gateway] = lease;
        return lease;
    }

    /// <summary>Lets go of the leases no session or watch uses any more; without any, the activation may be collected.</summary>
    private void Tidy()
    {
        if (_held is null) return;
        List<IUpdateObserver>? unused = null;
        foreach (var (gateway, lease) in _held)
        {
            if (Devices.Uses(lease) || _watchers.Uses(lease)) continue;
            _leases.Let(lease, UserId);
            (unused ??= []).Add(gateway);
        }
        if (unused is not null) foreach (var gateway in unused) _held.Remove(gateway);
        if (_held.Count == 0) _held = null;
    }

    /// <summary>
    /// Sets the one timer: at the next deadline (a debounce ending); else, while the user holds a lease, at the
    /// keep-alive period, so the activation holding the sessions is not collected (its ticks count as activity);
    /// else it goes.
    /// </summary>
    private void Arm(DateTimeOffset now)
    {
        TimeSpan due;
        if (Devices.NextDeadline is { } deadline) due = (deadline > now ? deadline - now : TimeSpan.Zero) + TimeSpan.FromMilliseconds(1);
        else if (_held is not null) due = _leases.HolderKeepAlive;
        else
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }
        _timer ??= _grain.RegisterGrainTimer(_ => EvaluateAsync(),
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void ListOnline(bool online)
    {
        if (_listedOnline == online) return;
        _listedOnline = online;
        _online.Set(UserId, online);
    }

    /// <summary>
    /// Applies the debounce rules now; tells watchers of a published change and conversations of a
    /// change in liveness; re-arms the timer.
    /// </summary>
    private async Task EvaluateAsync()
    {
        var now = Now;
        var change = Devices.Evaluate(now);
        if (change is PresenceChange.WentOffline) _watchers.Publish(Status);
        var live = Devices.AnyLive();
        TellConversations(live);
        ListOnline(live && Stored);
        _watchers.PruneGone();
        Tidy();
        // Armed before the last-seen write, which may fail: a failed write must not leave the next deadline (a
        // debounce ending) unevaluated, with the user shown online for good.
        Arm(now);
        if (change is PresenceChange.WentOnline)
        {
            // Seen now, and stored before the watchers are told: a crash right after a watcher saw the user online still
            // leaves them a "last seen" (a new user would otherwise have none). While they stay online the silo records
            // them as seen once a lease (OnlineUsers). Told even if the write fails: trouble in the store does not hide
            // presence.
            try
            {
                if (Stored) await _store.SetLastSeenAsync(UserId, now);
            }
            finally
            {
                _watchers.Publish(Status);
            }
        }
        else if (Stored && change is PresenceChange.WentOffline or PresenceChange.LastSeenChanged)
        {
            await _store.SetLastSeenAsync(UserId, Devices.LastSeen!.Value);
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
