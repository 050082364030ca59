namespace Messenger.Grains.Presence;

/// <summary>
/// The gateways watching one user's presence. A registration is a lease like a device session:
/// a gateway that stops renewing it is dropped at the next change.
/// </summary>
internal sealed class PresenceWatchers(TimeSpan lease)
{
    private readonly Dictionary<IUpdateObserver, DateTimeOffset> _watchers = [];

    public void Watch(IUpdateObserver gateway, DateTimeOffset now) => _watchers[gateway] = now + lease;

    public void Unwatch(IUpdateObserver gateway) => _watchers.Remove(gateway);

    /// <summary>Every watching gateway, expired or not.</summary>
    public Dictionary<IUpdateObserver, DateTimeOffset>.KeyCollection Gateways => _watchers.Keys;

    /// <summary>Tells every watching gateway (one call each, however many sockets watch there); drops expired ones.</summary>
    public void Publish(PresenceStatus status, DateTimeOffset now)
    {
        List<IUpdateObserver>? expired = null;
        foreach (var (gateway, expiresAt) in _watchers)
        {
            if (expiresAt <= now) (expired ??= []).Add(gateway);
            else gateway.OnPresenceAsync(status).Ignore();
        }
        if (expired is not null) foreach (var gateway in expired) _watchers.Remove(gateway);
    }
}
