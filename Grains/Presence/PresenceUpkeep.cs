using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Presence;

/// <summary>
/// On every silo once it is active, every third of <c>Messenger:DeviceLease</c>: a heartbeat to each gateway
/// this silo's users hold sessions or watches of (one call per gateway, however many users), giving up those
/// not heard from for a whole lease that left its heartbeats unanswered and telling their users
/// (<see cref="IUserGrain.GatewayLostAsync"/>); and once a lease, recording the online users as seen
/// (<see cref="OnlineUsers"/>) beside the heartbeats, so a slow database never delays one.
/// </summary>
internal sealed class PresenceUpkeep(GatewayLeases leases, OnlineUsers online, IUserLogStore store, IGrainFactory grains, TimeProvider time,
    ILogger<PresenceUpkeep> logger) : SiloLoop
{
    protected override async Task RunAsync()
    {
        var interval = leases.HeartbeatInterval;
        var recordedAt = time.GetUtcNow();
        var recording = Task.CompletedTask;
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(Stopping))
            {
                try
                {
                    await HeartbeatAsync(interval);
                    GiveUpSilent();
                    var now = time.GetUtcNow();
                    if (now - recordedAt >= leases.Lease && recording.IsCompleted)
                    {
                        recordedAt = now;
                        recording = RecordSeenAsync(now);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Never let one bad round stop the heartbeat: without it, no dead gateway is ever given up.
                    logger.LogError(ex, "A round of the presence upkeep failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HeartbeatAsync(TimeSpan timeout)
    {
        var held = leases.Snapshot();
        if (held.Length == 0) return;
        var beats = new Task<bool>[held.Length];
        for (var i = 0; i < held.Length; i++) beats[i] = BeatAsync(held[i], timeout);
        var answered = await Task.WhenAll(beats);
        // Counting the holders takes the registry's lock: only for a log that is on.
        if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.LogDebug("Heartbeat: {Answered} of {Gateways} gateways answered; {Holders} users hold sessions or watches of them",
                answered.Count(a => a), held.Length, leases.Holders);
        }
    }

    private async Task<bool> BeatAsync(GatewayLease lease, TimeSpan timeout)
    {
        try
        {
            // An answer that comes after the timeout still counts (a slow gateway is not a dead one).
            await AnsweredAsync(lease).WaitAsync(timeout, time, Stopping);
            return true;
        }
        catch (Exception ex) when (!Stopping.IsCancellationRequested)
        {
            lease.Unheard();
            logger.LogDebug(ex, "A gateway did not answer its heartbeat (last heard {HeardAt:O})", lease.HeardAt);
            return false;
        }
    }

    private async Task AnsweredAsync(GatewayLease lease)
    {
        await lease.Gateway.OnHeartbeatAsync();
        lease.Heard(time.GetUtcNow());
    }

    private void GiveUpSilent()
    {
        foreach (var (lease, holders) in leases.GiveUpSilent(time.GetUtcNow()))
        {
            logger.LogWarning("A gateway has not answered since {HeardAt:O}: ending the sessions and presence watches of its {Users} users here",
                lease.HeardAt, holders.Length);
            foreach (var userId in holders)
            {
                // One-way calls. The user grain treats the lease as gone wherever it looks even if it misses this. The
                // gateway, if it is alive after all (it was cut off for a while), attaches that user's sessions again.
                grains.GetGrain<IUserGrain>(userId).GatewayLostAsync().Ignore();
                lease.Gateway.OnUserReleasedAsync(userId).Ignore();
            }
        }
    }

    private async Task RecordSeenAsync(DateTimeOffset now)
    {
        // Runs beside the heartbeats, which do not wait for it: it must not throw.
        try
        {
            var users = online.Snapshot();
            if (users.Length == 0) return;
            await store.RecordSeenAsync(users, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()));
        }
        catch (Exception ex)
        {
            // Only the accuracy of "last seen" after a crash suffers; the next round writes again.
            logger.LogWarning(ex, "Recording the online users as seen failed");
        }
    }
}
