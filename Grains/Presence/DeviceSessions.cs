namespace Messenger.Grains.Presence;

/// <summary>
/// A user's device sessions and the presence derived from them, debounced: going online is published
/// only after the user stayed connected for the settle delay, going offline only after they stayed away
/// for the grace period. A session lasts until it is detached or its gateway's lease is gone (the silo
/// stopped hearing from the gateway, <see cref="GatewayLease"/>). A plain class owned by the user grain;
/// time is passed in, so the rules are easy to follow and to test.
/// </summary>
internal sealed class DeviceSessions(TimeSpan settle, TimeSpan grace, Action<string, DateTimeOffset> lost)
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private DateTimeOffset? _connectedSince;   // live, not yet published online
    private DateTimeOffset? _awaySince;        // not live, still published online
    private DateTimeOffset? _lastLeftAt;       // when the last live session ended
    private IReadOnlyList<IUpdateObserver> _lastLive = []; // the last answer of LiveGateways, never changed

    public bool PublishedOnline { get; private set; }

    public DateTimeOffset? LastSeen { get; set; }

    public int Count => _sessions.Count;

    public void Attach(string connectionId, string deviceId, GatewayLease lease) => _sessions[connectionId] = new Session(deviceId, lease);

    /// <summary>Ends a session; returns its device, or null when it was not (or no longer) known.</summary>
    public string? Detach(string connectionId, DateTimeOffset now)
    {
        if (!_sessions.Remove(connectionId, out var session)) return null;
        if (_sessions.Count == 0) _lastLeftAt = now;
        return session.DeviceId;
    }

    /// <summary>Ends every session of a device (it was logged out); returns the gateways that held one.</summary>
    public List<IUpdateObserver> DetachDevice(string? deviceId, DateTimeOffset now)
    {
        var gateways = new List<IUpdateObserver>(1);
        List<string>? ended = null;
        foreach (var (id, session) in _sessions)
        {
            if (deviceId is not null && session.DeviceId != deviceId) continue;
            (ended ??= []).Add(id);
            if (!gateways.Contains(session.Lease.Gateway)) gateways.Add(session.Lease.Gateway);
        }
        if (ended is null) return gateways;
        foreach (var id in ended) _sessions.Remove(id);
        if (_sessions.Count == 0) _lastLeftAt = now;
        return gateways;
    }

    /// <summary>Whether <paramref name="deviceId"/> has a live session.</summary>
    public bool IsLive(string deviceId)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.DeviceId == deviceId && !session.Lease.Gone) return true;
        }
        return false;
    }

    /// <summary>The devices with a live session.</summary>
    public IEnumerable<string> LiveDevices()
    {
        foreach (var session in _sessions.Values)
        {
            if (!session.Lease.Gone) yield return session.DeviceId;
        }
    }

    /// <summary>The device of each given session that is known, each once (checked sessions, for "last active").</summary>
    public List<string> DevicesOf(IReadOnlyList<string> connectionIds)
    {
        var devices = new List<string>(1);
        foreach (var id in connectionIds)
        {
            if (_sessions.TryGetValue(id, out var session) && !devices.Contains(session.DeviceId)) devices.Add(session.DeviceId);
        }
        return devices;
    }

    /// <summary>
    /// The gateway holding <paramref name="connectionIds"/> checks them: it is alive (its lease is heard from now);
    /// returns the ids of sessions not (or no longer) live here.
    /// </summary>
    public List<string>? Check(IReadOnlyList<string> connectionIds, DateTimeOffset now)
    {
        List<string>? unknown = null;
        foreach (var id in connectionIds)
        {
            if (_sessions.TryGetValue(id, out var session) && !session.Lease.Gone) session.Lease.Heard(now);
            else (unknown ??= []).Add(id);
        }
        return unknown;
    }

    /// <summary>
    /// The gateways holding at least one live session, each once. Asked at every delivery: while they are the gateways
    /// of the last answer, that same list is answered again rather than a new one built. A list once answered is never
    /// changed (a caller that wants to add to it copies it).
    /// </summary>
    public IReadOnlyList<IUpdateObserver> LiveGateways()
    {
        if (StillLive(_lastLive)) return _lastLive;
        var gateways = new List<IUpdateObserver>(2);
        foreach (var session in _sessions.Values)
        {
            if (!session.Lease.Gone && !gateways.Contains(session.Lease.Gateway)) gateways.Add(session.Lease.Gateway);
        }
        return _lastLive = gateways;
    }

    /// <summary>Whether <paramref name="gateways"/> are exactly the gateways of the live sessions: each live session's is among them, and each of them has one.</summary>
    private bool StillLive(IReadOnlyList<IUpdateObserver> gateways)
    {
        if (gateways.Count > 30) return false; // (a user on that many gateways at once: built anew)
        var seen = 0;
        foreach (var session in _sessions.Values)
        {
            if (session.Lease.Gone) continue;
            var i = IndexOf(gateways, session.Lease.Gateway);
            if (i < 0) return false;
            seen |= 1 << i;
        }
        return seen == (1 << gateways.Count) - 1;
    }

    private static int IndexOf(IReadOnlyList<IUpdateObserver> gateways, IUpdateObserver gateway)
    {
        for (var i = 0; i < gateways.Count; i++) if (gateways[i].Equals(gateway)) return i;
        return -1;
    }

    /// <summary>Whether <paramref name="lease"/> is the lease of one of the sessions.</summary>
    public bool Uses(GatewayLease lease)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.Lease == lease) return true;
        }
        return false;
    }

    public bool AnyLive()
    {
        foreach (var session in _sessions.Values)
        {
            if (!session.Lease.Gone) return true;
        }
        return false;
    }

    /// <summary>
    /// Drops the sessions of gateways that are gone (telling <c>lost</c> each one's device and when its gateway was
    /// last heard from) and moves the published state if a delay has run out. Returns what
    /// changed; <see cref="NextDeadline"/> tells when to call again.
    /// </summary>
    public PresenceChange Evaluate(DateTimeOffset now)
    {
        PruneGone();
        var change = PresenceChange.None;
        if (_sessions.Count > 0)
        {
            _awaySince = null;
            if (!PublishedOnline)
            {
                _connectedSince ??= now;
                if (now - _connectedSince >= settle)
                {
                    PublishedOnline = true;
                    _connectedSince = null;
                    change = PresenceChange.WentOnline;
                }
            }
        }
        else
        {
            var leftAt = _lastLeftAt ?? now;
            if (_connectedSince is not null)
            {
                // Connected and gone again inside the settle delay: nobody is told, but it was seen.
                _connectedSince = null;
                LastSeen = leftAt;
                change = PresenceChange.LastSeenChanged;
            }
            if (PublishedOnline)
            {
                _awaySince ??= leftAt;
                if (now - _awaySince >= grace)
                {
                    PublishedOnline = false;
                    LastSeen = _awaySince;
                    _awaySince = null;
                    change = PresenceChange.WentOffline;
                }
            }
        }
        return change;
    }

    /// <summary>When <see cref="Evaluate"/> must run next (a settle or grace delay runs out), or null.</summary>
    public DateTimeOffset? NextDeadline => _connectedSince is { } connected ? connected + settle : _awaySince is { } away ? away + grace : null;

    private void PruneGone()
    {
        List<string>? gone = null;
        var lastHeard = DateTimeOffset.MinValue;
        foreach (var (id, session) in _sessions)
        {
            if (!session.Lease.Gone) continue;
            (gone ??= []).Add(id);
            if (session.Lease.HeardAt > lastHeard) lastHeard = session.Lease.HeardAt;
            lost(session.DeviceId, session.Lease.HeardAt);
        }
        if (gone is null) return;
        foreach (var id in gone) _sessions.Remove(id);
        // A gateway that died said nothing: its sessions were last known alive when the silo last heard from it.
        if (_sessions.Count == 0) _lastLeftAt = lastHeard;
    }

    private readonly record struct Session(string DeviceId, GatewayLease Lease);
}

internal enum PresenceChange
{
    None,
    WentOnline,
    WentOffline,
    /// <summary>Only <see cref="DeviceSessions.LastSeen"/> moved (a connection inside the settle delay).</summary>
    LastSeenChanged,
}
