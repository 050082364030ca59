namespace Messenger.Grains.Presence;

/// <summary>
/// A gateway as one silo knows it: alive until the silo has not heard from it for a whole lease
/// (<see cref="GatewayLeases"/>), then gone for good; a gateway heard from again gets a new lease.
/// Shared by every session and presence watch of that gateway on the silo, so keeping thousands of
/// them alive costs one heartbeat, not one call each. Safe to read from any thread.
/// </summary>
public sealed class GatewayLease(IUpdateObserver gateway, DateTimeOffset heardAt)
{
    private long _heardAtMs = heardAt.ToUnixTimeMilliseconds();
    private volatile bool _gone;

    public IUpdateObserver Gateway => gateway;

    /// <summary>The last time the gateway answered a heartbeat or called with a session or watch.</summary>
    public DateTimeOffset HeardAt => DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref _heardAtMs));

    /// <summary>Whether the silo gave the gateway up (it stopped answering); never reset.</summary>
    public bool Gone => _gone;

    internal void Heard(DateTimeOffset now)
    {
        var ms = now.ToUnixTimeMilliseconds();
        for (var seen = Volatile.Read(ref _heardAtMs); ms > seen; seen = Volatile.Read(ref _heardAtMs))
        {
            if (Interlocked.CompareExchange(ref _heardAtMs, ms, seen) == seen) break;
        }
    }

    internal void GiveUp() => _gone = true;
}

/// <summary>
/// One silo's gateways: which of its users hold a device session or presence watch of each, and whether
/// each is still there. A user grain holds a gateway's lease while it keeps anything of that gateway and
/// lets it go after; <see cref="PresenceUpkeep"/> sends each held gateway a heartbeat and gives up those
/// not heard from for <paramref name="lease"/>, telling their holders. A plain class, safe for concurrent use.
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

    /// <summary>How long a gateway may go unheard before it is given up.</summary>
    public TimeSpan Lease => lease;

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
    /// Gives up every gateway not heard from for a whole lease by <paramref name="now"/>; returns each with
    /// the users who held it, to be told.
    /// </summary>
    public List<(GatewayLease Lease, string[] Holders)> GiveUpSilent(DateTimeOffset now)
    {
        List<(GatewayLease, string[])> gone = [];
        lock (_lock)
        {
            foreach (var (gateway, held) in _gateways)
            {
                if (now - held.Lease.HeardAt < lease) continue;
                held.Lease.GiveUp();
                gone.Add((held.Lease, [.. held.Holders]));
            }
            foreach (var (given, _) in gone) _gateways.Remove(given.Gateway);
        }
        return gone;
    }
}
