namespace Messenger.Grains.Presence;

/// <summary>
/// A user's device sessions (leases) and the presence derived from them, debounced: going online is
/// published only after the user stayed connected for the settle delay, going offline only after they
/// stayed away for the grace period. A plain class owned by the user grain; time is passed in, so the
/// rules are easy to follow and to test.
/// </summary>
internal sealed class DeviceSessions(TimeSpan lease, TimeSpan settle, TimeSpan grace)
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private DateTimeOffset? _connectedSince;   // live, not yet published online
    private DateTimeOffset? _awaySince;        // not live, still published online
    private DateTimeOffset? _lastLeftAt;       // when the last live session ended

    public bool PublishedOnline { get; private set; }

    public DateTimeOffset? LastSeen { get; set; }

    public int Count => _sessions.Count;

    public void Attach(string connectionId, string deviceId, IUpdateObserver gateway, DateTimeOffset now) =>
        _sessions[connectionId] = new Session(deviceId, gateway, now + lease);

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
            if (!gateways.Contains(session.Gateway)) gateways.Add(session.Gateway);
        }
        if (ended is null) return gateways;
        foreach (var id in ended) _sessions.Remove(id);
        if (_sessions.Count == 0) _lastLeftAt = now;
        return gateways;
    }

    /// <summary>Whether <paramref name="deviceId"/> has a live session.</summary>
    public bool IsLive(string deviceId, DateTimeOffset now)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.DeviceId == deviceId && session.ExpiresAt > now) return true;
        }
        return false;
    }

    /// <summary>The device of each given session that is known, each once (renewed sessions, for "last active").</summary>
    public List<string> DevicesOf(IReadOnlyList<string> connectionIds)
    {
        var devices = new List<string>(1);
        foreach (var id in connectionIds)
        {
            if (_sessions.TryGetValue(id, out var session) && !devices.Contains(session.DeviceId)) devices.Add(session.DeviceId);
        }
        return devices;
    }

    /// <summary>Extends the given leases; returns the ids that are not (or no longer) known.</summary>
    public List<string>? Renew(IReadOnlyList<string> connectionIds, DateTimeOffset now)
    {
        List<string>? unknown = null;
        foreach (var id in connectionIds)
        {
            if (_sessions.TryGetValue(id, out var session)) _sessions[id] = session with { ExpiresAt = now + lease };
            else (unknown ??= []).Add(id);
        }
        return unknown;
    }

    /// <summary>The gateways holding at least one live session, each once.</summary>
    public List<IUpdateObserver> LiveGateways(DateTimeOffset now)
    {
        var gateways = new List<IUpdateObserver>(2);
        foreach (var session in _sessions.Values)
        {
            if (session.ExpiresAt > now && !gateways.Contains(session.Gateway)) gateways.Add(session.Gateway);
        }
        return gateways;
    }

    public bool AnyLive(DateTimeOffset now)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.ExpiresAt > now) return true;
        }
        return false;
    }

    /// <summary>
    /// Drops expired leases and moves the published state if a delay has run out. Returns what
    /// changed; <see cref="NextDeadline"/> tells when to call again.
    /// </summary>
    public PresenceChange Evaluate(DateTimeOffset now)
    {
        PruneExpired(now);
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

    /// <summary>When <see cref="Evaluate"/> must run next (a delay runs out or a lease expires), or null.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            DateTimeOffset? next = null;
            if (_connectedSince is { } connected) next = Min(next, connected + settle);
            if (_awaySince is { } away) next = Min(next, away + grace);
            foreach (var session in _sessions.Values) next = Min(next, session.ExpiresAt);
            return next;
        }
    }

    private void PruneExpired(DateTimeOffset now)
    {
        List<string>? expired = null;
        var lastRenewal = DateTimeOffset.MinValue;
        foreach (var (id, session) in _sessions)
        {
            if (session.ExpiresAt > now) continue;
            (expired ??= []).Add(id);
            if (session.ExpiresAt - lease > lastRenewal) lastRenewal = session.ExpiresAt - lease;
        }
        if (expired is null) return;
        foreach (var id in expired) _sessions.Remove(id);
        // A gateway that died said nothing: its sessions were last known alive at their last renewal.
        if (_sessions.Count == 0) _lastLeftAt = lastRenewal;
    }

    private static DateTimeOffset Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;

    private readonly record struct Session(string DeviceId, IUpdateObserver Gateway, DateTimeOffset ExpiresAt);
}

internal enum PresenceChange
{
    None,
    WentOnline,
    WentOffline,
    /// <summary>Only <see cref="DeviceSessions.LastSeen"/> moved (a connection inside the settle delay).</summary>
    LastSeenChanged,
}
