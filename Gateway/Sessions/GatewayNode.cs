using Messenger.Gateway.Hosting;
using Messenger.Grains;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// This gateway as the cluster sees it: one observer reference (the <see cref="ConnectionRegistry"/>)
/// that every user grain pushes to, device sessions attached and detached, and their leases renewed.
/// </summary>
public sealed class GatewayNode(
    IGrainFactory grains,
    ConnectionRegistry registry,
    PresenceSubscriptions subscriptions,
    IOptions<GatewayOptions> options,
    ILogger<GatewayNode> logger) : BackgroundService
{
    public IGrainFactory Grains => grains;

    private IUpdateObserver? _reference;
    private readonly Lock _lock = new();

    private IUpdateObserver Reference
    {
        get
        {
            lock (_lock)
            {
                // The registry object is held by DI for the life of the process, so the reference stays valid.
                return _reference ??= grains.CreateObjectReference<IUpdateObserver>(registry);
            }
        }
    }

    /// <summary>Registers the session so pushes reach it; returns the user's newest userSeq.</summary>
    public async Task<long> AttachAsync(ClientSession session)
    {
        registry.Add(session);
        try
        {
            return await grains.GetGrain<IUserGrain>(session.UserId).AttachDeviceAsync(session.ConnectionId, session.DeviceId, Reference);
        }
        catch
        {
            registry.Remove(session);
            throw;
        }
    }

    /// <summary>
    /// Replaces the socket's presence subscription after checking the user may see every one of them
    /// (a refusal changes nothing); returns their current presence.
    /// </summary>
    public async Task<PresenceStatus[]> SubscribePresenceAsync(ClientSession session, IReadOnlyList<string>? userIds)
    {
        var ids = Endpoints.Requests.CheckUserList(userIds);
        await grains.GetGrain<IUserGrain>(session.UserId).CheckContactsAsync(ids);
        var (_, unwatch) = subscriptions.Replace(session, ids);
        Unwatch(unwatch);
        // Registering with each user's grain returns its status at that moment, so no change is missed in between.
        var statuses = new Task<PresenceStatus>[ids.Count];
        for (var i = 0; i < statuses.Length; i++) statuses[i] = grains.GetGrain<IUserGrain>(ids[i]).WatchPresenceAsync(Reference);
        return await Task.WhenAll(statuses);
    }

    private void Unwatch(List<string> userIds)
    {
        foreach (var userId in userIds) grains.GetGrain<IUserGrain>(userId).UnwatchPresenceAsync(Reference).Ignore();
    }

    public async Task DetachAsync(ClientSession session)
    {
        registry.Remove(session);
        Unwatch(subscriptions.Remove(session));
        try
        {
            await grains.GetGrain<IUserGrain>(session.UserId).DetachDeviceAsync(session.ConnectionId);
        }
        catch (Exception ex)
        {
            // The lease expires on its own; nothing is lost.
            logger.LogDebug(ex, "Detaching {ConnectionId} failed", session.ConnectionId);
        }
    }

    /// <summary>Renews the leases of every open session; re-attaches any the user grain no longer knows.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LeaseRenewInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var (userId, sessions) in registry.Snapshot())
            {
                try
                {
                    var ids = new string[sessions.Length];
                    for (var i = 0; i < ids.Length; i++) ids[i] = sessions[i].ConnectionId;
                    var unknown = await grains.GetGrain<IUserGrain>(userId).RenewDevicesAsync(ids);
                    foreach (var session in sessions)
                    {
                        if (unknown.Contains(session.ConnectionId))
                        {
                            await grains.GetGrain<IUserGrain>(userId).AttachDeviceAsync(session.ConnectionId, session.DeviceId, Reference);
                        }
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Renewing device leases of {UserId} failed", userId);
                }
            }
            // Watches are leases too; renewing them also repairs a watch lost to a concurrent unwatch.
            foreach (var userId in subscriptions.WatchedUsers())
            {
                try
                {
                    await grains.GetGrain<IUserGrain>(userId).WatchPresenceAsync(Reference);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Renewing the presence watch of {UserId} failed", userId);
                }
            }
        }
    }
}
