using System.Collections.Concurrent;
using Messenger.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// The long-polling devices this gateway serves, one <see cref="PollSession"/> per user and device. A
/// session is attached on a device's first poll and detached once the device stopped polling for
/// <see cref="GatewayOptions.PollSessionTimeout"/> (its device lease then ends as a closed socket's
/// does) or when the gateway shuts down.
/// </summary>
public sealed class PollSessions(GatewayNode node, IOptions<GatewayOptions> options, TimeProvider time, ILogger<ClientSession> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<(string UserId, string DeviceId), Lazy<Task<PollSession>>> _sessions = new();

    /// <summary>
    /// The device's session, attached now if it has none (or its last one ended, or was opened with a token of
    /// an earlier login of the device: that one ends as a logged-out one does).
    /// </summary>
    public async Task<PollSession> GetOrAttachAsync(string userId, string deviceId, long generation)
    {
        var key = (userId, deviceId);
        while (true)
        {
            var entry = _sessions.GetOrAdd(key, k => new Lazy<Task<PollSession>>(() => AttachAsync(k.UserId, k.DeviceId, generation)));
            try
            {
                var session = await entry.Value;
                if (session.Session.Generation != generation) session.Session.LogOut();
                if (!session.Session.IsShuttingDown && !session.Session.IsLoggedOut) return session;
            }
            catch
            {
                _sessions.TryRemove(new KeyValuePair<(string, string), Lazy<Task<PollSession>>>(key, entry));
                throw;
            }
            // Ending (the gateway is shutting down): the poll gets what there is and ends at once.
            if (node.IsShuttingDown && !(await entry.Value).Session.IsLoggedOut) return await entry.Value;
            _sessions.TryRemove(new KeyValuePair<(string, string), Lazy<Task<PollSession>>>(key, entry));
        }
    }

    private async Task<PollSession> AttachAsync(string userId, string deviceId, long generation)
    {
        var session = new ClientSession(userId, deviceId, generation, node, options.Value, logger) { Polled = true };
        await node.AttachAsync(session);
        session.EnqueueHello(null); // pushes that arrived while attaching are released
        return new PollSession(session, time);
    }

    /// <summary>Ends the sessions of devices that stopped polling, and every session when the gateway shuts down.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = options.Value.PollSessionTimeout;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Min(1, timeout.TotalSeconds / 4)), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await SweepAsync(timeout);
        }
        catch (OperationCanceledException)
        {
        }
        await SweepAsync(TimeSpan.Zero);
    }

    private async Task SweepAsync(TimeSpan timeout)
    {
        var ending = new List<PollSession>();
        foreach (var (key, entry) in _sessions)
        {
            if (!entry.IsValueCreated || !entry.Value.IsCompletedSuccessfully) continue;
            var poll = entry.Value.Result;
            if (!poll.Session.IsShuttingDown && !poll.Session.IsLoggedOut && !poll.IdleLongerThan(timeout)) continue;
            if (_sessions.TryRemove(new KeyValuePair<(string, string), Lazy<Task<PollSession>>>(key, entry))) ending.Add(poll);
        }
        // Many at a time (a shutdown ends them all at once), as reconciliation rounds do.
        await Parallel.ForEachAsync(ending, new ParallelOptions { MaxDegreeOfParallelism = GatewayNode.RenewConcurrency }, async (poll, _) =>
        {
            poll.Session.FinishShutdown(); // wakes a poll still waiting
            await node.DetachAsync(poll.Session);
            poll.Session.MarkEnded();
        });
    }
}
