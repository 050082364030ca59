namespace Messenger.Grains.Users;

/// <summary>
/// The gateways that hold a copy of one user's device grants, each registered for a lease: while the lease
/// runs the gateway trusts its copy, so every change must reach it. A plain class owned by the user grain.
/// </summary>
internal sealed class DeviceWatchers(TimeSpan lease)
{
    private readonly Dictionary<IUpdateObserver, DateTimeOffset> _watchers = [];

    public void Watch(IUpdateObserver gateway, DateTimeOffset now) => _watchers[gateway] = now + lease;

    /// <summary>The gateways whose lease runs (expired ones are dropped).</summary>
    public List<IUpdateObserver> Live(DateTimeOffset now)
    {
        var live = new List<IUpdateObserver>(_watchers.Count);
        List<IUpdateObserver>? expired = null;
        foreach (var (gateway, expiresAt) in _watchers)
        {
            if (expiresAt > now) live.Add(gateway);
            else (expired ??= []).Add(gateway);
        }
        if (expired is not null) foreach (var gateway in expired) _watchers.Remove(gateway);
        return live;
    }
}
