namespace Messenger.Grains.Presence;

/// <summary>
/// The gateways watching one user's presence. A registration lasts until the gateway unwatches or its
/// lease is gone (<see cref="GatewayLease"/>), like a device session.
/// </summary>
internal sealed class PresenceWatchers
{
    // Made on the first watch: most users are never watched.
    private Dictionary<IUpdateObserver, GatewayLease>? _watchers;

    public void Watch(GatewayLease lease) => (_watchers ??= [])[lease.Gateway] = lease;

    public void Unwatch(IUpdateObserver gateway) => _watchers?.Remove(gateway);

    /// <summary>Every watching gateway, gone or not.</summary>
    public IEnumerable<IUpdateObserver> Gateways => _watchers?.Keys ?? Enumerable.Empty<IUpdateObserver>();

    /// <summary>Whether <paramref name="lease"/> is the lease of one of the watches.</summary>
    public bool Uses(GatewayLease lease) => _watchers is not null && _watchers.TryGetValue(lease.Gateway, out var held) && held == lease;

    /// <summary>Tells every watching gateway (one call each, however many sockets watch there).</summary>
    public void Publish(PresenceStatus status)
    {
        if (_watchers is null) return;
        foreach (var lease in _watchers.Values)
        {
            if (!lease.Gone) lease.Gateway.OnPresenceAsync(status).Ignore();
        }
    }

    /// <summary>Drops the watches of gateways that are gone.</summary>
    public void PruneGone()
    {
        if (_watchers is null) return;
        List<IUpdateObserver>? gone = null;
        foreach (var (gateway, lease) in _watchers)
        {
            if (lease.Gone) (gone ??= []).Add(gateway);
        }
        if (gone is not null) foreach (var gateway in gone) _watchers.Remove(gateway);
    }
}
