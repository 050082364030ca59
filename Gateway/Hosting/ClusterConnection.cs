using Messenger.Grains;

namespace Messenger.Gateway.Hosting;

/// <summary>
/// Whether this gateway can reach the grains right now. Standalone: always (the silo is in the
/// process). Client mode: once the Orleans client has connected (the host has started, which waits
/// for it) and as long as it keeps at least one silo gateway; meanwhile every request that needs a
/// grain is answered <c>unavailable</c> at once instead of waiting.
/// </summary>
public sealed class ClusterConnection : IClusterConnectionStatusObserver
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly bool _inProcess;
    private volatile bool _lost;

    public ClusterConnection(IHostApplicationLifetime lifetime, bool inProcess)
    {
        _lifetime = lifetime;
        _inProcess = inProcess;
    }

    public bool IsConnected => _inProcess || (_lifetime.ApplicationStarted.IsCancellationRequested && !_lost);

    /// <summary>Throws <see cref="ErrorCode.Unavailable"/> unless the grains can be reached.</summary>
    public void EnsureConnected()
    {
        if (!IsConnected)
        {
            throw new MessengerException(ErrorCode.Unavailable, "this gateway cannot reach the cluster right now; retry in a moment.");
        }
    }

    /// <summary>
    /// Raised when this gateway lost its connection to a silo (or to all of them): grains may have died with
    /// it and come back elsewhere without knowing what this gateway holds (see DeviceGrantCache).
    /// </summary>
    public event Action? SiloLost;

    void IClusterConnectionStatusObserver.NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _lost = currentNumberOfGateways == 0;
        if (currentNumberOfGateways < previousNumberOfGateways) SiloLost?.Invoke();
    }

    void IClusterConnectionStatusObserver.NotifyClusterConnectionLost()
    {
        _lost = true;
        SiloLost?.Invoke();
    }
}
