namespace Messenger.Grains.Presence;

/// <summary>
/// A gateway as one silo knows it: alive until the silo has not heard from it for a whole lease and the
/// heartbeats it sent it in that time went unanswered (<see cref="GatewayLeases"/>), then gone for good; a
/// gateway heard from again gets a new lease.
/// Shared by every session and presence watch of that gateway on the silo, so keeping thousands of
/// them alive costs one heartbeat, not one call each. Safe to read from any thread.
/// </summary>
public sealed class GatewayLease(IUpdateObserver gateway, DateTimeOffset heardAt)
{
    private long _heardAtMs = heardAt.ToUnixTimeMilliseconds();
    private int _unanswered;
    private volatile bool _gone;

    public IUpdateObserver Gateway => gateway;

    /// <summary>The last time the gateway answered a heartbeat or called with a session or watch.</summary>
    public DateTimeOffset HeardAt => DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref _heardAtMs));

    /// <summary>Heartbeats in a row that the gateway did not answer in time (or that failed) since it was last heard from.</summary>
    public int Unanswered => Volatile.Read(ref _unanswered);

    /// <summary>Whether the silo gave the gateway up (it stopped answering); never reset.</summary>
    public bool Gone => _gone;

    internal void Heard(DateTimeOffset now)
    {
        var ms = now.ToUnixTimeMilliseconds();
        for (var seen = Volatile.Read(ref _heardAtMs); ms > seen; seen = Volatile.Read(ref _heardAtMs))
        {
            if (Interlocked.CompareExchange(ref _heardAtMs, ms, seen) == seen) break;
        }
        Volatile.Write(ref _unanswered, 0);
    }

    /// <summary>A heartbeat went unanswered within its time (an answer that comes later still counts as heard).</summary>
    internal void Unheard() => Interlocked.Increment(ref _unanswered);

    internal void GiveUp() => _gone = true;
}

/// <summary>
/// One silo's gateways: which of its users hold a device session or presence watch of each, and whether
/// each is still there. A user grain holds a gateway's lease while it keeps anything of that gateway and
/// lets it go after; <see cref="PresenceUpkeep"/> sends each held gateway a heartbeat every
/// <see cref="HeartbeatInterval"/> and gives up those not heard from for <paramref name="lease"/> that left every
/// heartbeat of that lease unanswered, telling their holders. A plain class, safe for concurrent use.
/// </summary>
public sealed class GatewayLeases(TimeSpan lease, TimeSpan holderKeepAlive)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IUpdateObserver, Held> _gateways = [];

    private sealed class Held(GatewayLease lease)
    {
        public GatewayLease Lease { get; } = lease;
        public HashSet<string> Holders { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Heartbeats a silo sends each held gateway per lease; a gateway is given up only after missing this many in a row.</summary>
    public const int HeartbeatsPerLease = 3;

    /// <summary>How long a gateway may go unheard before it is given up.</summary>
    public TimeSpan Lease => lease;

    /// <summary>How often each held gateway is sent a heartbeat, and how long it has to answer one in time.</summary>
    public TimeSpan HeartbeatInterval => lease / HeartbeatsPerLease;

    /// <summary>
    /// How often a user grain holding a lease shows activity so that it is not collected (half the collection age):
    /// nothing else calls it while its sockets are idle, and the sessions and watches live only in its activation.
    /// </summary>
    public TimeSpan HolderKeepAlive => holderKeepAlive;

    /// <summary>
    /// <paramref name="userId"/> keeps something of <paramref name="gateway"/>, which just called (it is alive);
    /// returns the gateway's current lease (a new one if it had been given up).
    /// </summary>
    public GatewayLease Hold(IUpdateObserver gateway, string userId, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_gateways.TryGetValue(gateway, out var held)) _gateways.Add(gateway, held = new Held(new GatewayLease(gateway, now)));
            held.Holders.Add(userId);
            held.Lease.Heard(now);
            return held.Lease;
        }
    }

    /// <summary><paramref name="userId"/> keeps nothing of that lease's gateway any more.</summary>
    public void Let(GatewayLease lease, string userId)
    {
        lock (_lock)
        {
            if (!_gateways.TryGetValue(lease.Gateway, out var held) || held.Lease != lease) return;
            held.Holders.Remove(userId);
            if (held.Holders.Count == 0) _gateways.Remove(lease.Gateway);
        }
    }

    /// <summary>The leases held now: the gateways to send a heartbeat to.</summary>
    public GatewayLease[] Snapshot()
    {
        lock (_lock) return [.. _gateways.Values.Select(h => h.Lease)];
    }

    /// <summary>How many users hold leases now, counted once per gateway (for the log).</summary>
    public int Holders
    {
        get { lock (_lock) return _gateways.Values.Sum(h => h.Holders.Count); }
    }

    /// <summary>
    /// Gives up every gateway not heard from for a whole lease by <paramref name="now"/> that also left the last
    /// <see cref="HeartbeatsPerLease"/> heartbeats unanswered; returns each with the users who held it, to be told.
    /// A silo that was too busy to ask (a long pause, a stalled loop) does not give up the gateways it did not ask.
    /// </summary>
    public List<(GatewayLease Lease, string[] Holders)> GiveUpSilent(DateTimeOffset now)
    {
        List<(GatewayLease, string[])> gone = [];
        lock (_lock)
        {
            foreach (var (gateway, held) in _gateways)
            {
                // Both: the count alone could be one off (a late timeout counted just after an answer reset it),
                // the time alone gave up gateways the silo had not asked.
                if (now - held.Lease.HeardAt < lease || held.Lease.Unanswered < HeartbeatsPerLease) continue;
                held.Lease.GiveUp();
                gone.Add((held.Lease, [.. held.Holders]));
            }
            foreach (var (given, _) in gone) _gateways.Remove(given.Gateway);
        }
        return gone;
    }
}
