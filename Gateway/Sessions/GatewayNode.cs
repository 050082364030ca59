using System.Collections.Concurrent;
using System.Diagnostics;
using Messenger.Gateway.Endpoints;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Protocol;
using Messenger.Grains;
using Messenger.Grains.Delivery;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// This gateway as the cluster sees it: one observer reference (the <see cref="ConnectionRegistry"/>)
/// that every user grain pushes to and every silo sends its heartbeat to, device sessions attached and
/// detached, and what a user grain lost attached again.
/// </summary>
public sealed class GatewayNode(
    IGrainFactory factory,
    GrainReferences grains,
    ConnectionRegistry registry,
    ClusterConnection cluster,
    PresenceSubscriptions subscriptions,
    LocalGateways localGateways,
    IOptions<GatewayOptions> options,
    ILogger<GatewayNode> logger) : BackgroundService
{
    public GrainReferences Grains => grains;

    private IUpdateObserver? _reference;
    private readonly Lock _lock = new();

    private IUpdateObserver Reference
    {
        get
        {
            lock (_lock)
            {
                // The registry object is held by DI for the life of the process, so the reference stays valid. A silo in
                // this process (standalone) pushes to it by a plain call (LocalGateways).
                if (_reference is null)
                {
                    _reference = factory.CreateObjectReference<IUpdateObserver>(registry);
                    localGateways.Add(_reference, registry);
                }
                return _reference;
            }
        }
    }

    /// <summary>
    /// Registers the session so pushes reach it; returns the user's newest userSeq. A token whose user does
    /// not exist (the account was deleted) is refused as <c>unauthorized</c>: to its client it is simply a
    /// token that no longer works, as the handshake and the poll document.
    /// </summary>
    public async Task<long> AttachAsync(ClientSession session)
    {
        registry.Add(session);
        try
        {
            var userSeq = await grains.User(session.UserId).AttachDeviceAsync(session.ConnectionId, session.DeviceId, session.Generation, Reference);
            // A shutdown that began after this socket was accepted may not have seen it: close it at once.
            if (_shuttingDown) session.FinishShutdown();
            return userSeq;
        }
        catch (Exception ex)
        {
            registry.Remove(session);
            session.MarkEnded();
            if (ex is MessengerException { Code: ErrorCode.UserNotFound })
            {
                throw MessengerException.TokenRefused(ErrorCode.Unauthorized);
            }
            // Not a refusal: the grain may have taken the session before the call failed (a timeout), and nothing
            // else would ever end it there.
            if (ex is not MessengerException { Code: ErrorCode.LoggedOut }) DetachLater(session.UserId, session.ConnectionId);
            throw;
        }
    }

    /// <summary>
    /// Attaches a session the user's grain no longer knows (it was activated again); one whose device was
    /// logged out meanwhile (a logout the grain could not tell this gateway of) is closed.
    /// </summary>
    private async Task AttachAgainAsync(IUserGrain user, ClientSession session)
    {
        if (!registry.Holds(session)) return;
        try
        {
            await user.AttachDeviceAsync(session.ConnectionId, session.DeviceId, session.Generation, Reference);
        }
        catch (MessengerException ex) when (ex.Code is ErrorCode.LoggedOut or ErrorCode.UserNotFound)
        {
            session.LogOut();
            return;
        }
        // The socket closed meanwhile and its detach may have reached the grain first: detach again.
        if (!registry.Holds(session)) await DetachFromGrainAsync(session.UserId, session.ConnectionId);
    }

    /// <summary>
    /// The user's device grants, this gateway registered with the user's grain to be told of every change
    /// (see <see cref="Auth.DeviceGrantCache"/>); <paramref name="deviceId"/> is the device whose token is checked.
    /// </summary>
    public Task<DeviceGrants> WatchDevicesAsync(string userId, string deviceId) => grains.User(userId).WatchDevicesAsync(Reference, deviceId);

    /// <summary>
    /// Replaces the socket's presence subscription after checking the user may see every one of them
    /// (a refusal changes nothing); returns their current presence.
    /// </summary>
    public async Task<PresenceStatus[]> SubscribePresenceAsync(ClientSession session, IReadOnlyList<string>? userIds)
    {
        var ids = Requests.CheckUserList(userIds);
        await grains.User(session.UserId).CheckContactsAsync(ids);
        var (_, unwatch) = subscriptions.Replace(session, ids);
        Unwatch(unwatch);
        // Registering with each user's grain returns its status at that moment, so no change is missed in between.
        var statuses = new Task<PresenceStatus>[ids.Count];
        for (var i = 0; i < statuses.Length; i++) statuses[i] = grains.User(ids[i]).WatchPresenceAsync(Reference);
        return await Task.WhenAll(statuses);
    }

    private void Unwatch(List<string> userIds)
    {
        foreach (var userId in userIds) _ = UnwatchAsync(userId);
    }

    /// <summary>
    /// Ends this gateway's watch of <paramref name="userId"/>, unless a socket here watches them again by the time
    /// the grain has taken it (a subscription racing the unwatch): then the watch is made again.
    /// </summary>
    private async Task UnwatchAsync(string userId)
    {
        try
        {
            var user = grains.User(userId);
            await user.UnwatchPresenceAsync(Reference);
            if (subscriptions.WatchersOf(userId).Length > 0) await user.WatchPresenceAsync(Reference);
        }
        catch (Exception ex)
        {
            // A watch left behind is dropped at the user's next presence change (see ConnectionRegistry.Unwanted).
            logger.LogDebug(ex, "Unwatching {UserId} failed", userId);
        }
    }

    public async Task DetachAsync(ClientSession session)
    {
        registry.Remove(session);
        Unwatch(subscriptions.Remove(session));
        await DetachFromGrainAsync(session.UserId, session.ConnectionId);
    }

    // Sessions whose user grain may still count them (a detach that failed, an attach that failed after the grain may
    // have taken it): each reconciliation round detaches them again until the grain has it.
    private readonly ConcurrentQueue<(string UserId, string ConnectionId)> _detachLater = new();

    private void DetachLater(string userId, string connectionId)
    {
        _detachLater.Enqueue((userId, connectionId));
        RoundDueSoon();
    }

    private async Task<bool> DetachFromGrainAsync(string userId, string connectionId)
    {
        try
        {
            await grains.User(userId).DetachDeviceAsync(connectionId);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Detaching {ConnectionId} failed; the next reconciliation round tries again", connectionId);
            DetachLater(userId, connectionId);
            return false;
        }
    }

    /// <summary>Most calls of a reconciliation round (or of re-attaching after a release) in flight at once.</summary>
    public const int RenewConcurrency = 256;

    // Completed when a round is due before its time: the Orleans client lost a silo (its user grains come back
    // elsewhere knowing nothing of this gateway), or attaching a released user's sessions again failed.
    private TaskCompletionSource _roundDue = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void RoundDue() => _roundDue.TrySetResult();

    // 1 while a round is already asked for after LeaseRenewInterval (many failures at once ask once).
    private int _roundDueSoon;

    /// <summary>Asks for a round after <see cref="GatewayOptions.LeaseRenewInterval"/> (something failed; not at once, it may still be failing).</summary>
    private void RoundDueSoon()
    {
        if (Interlocked.Exchange(ref _roundDueSoon, 1) == 1) return;
        _ = Task.Delay(options.Value.LeaseRenewInterval).ContinueWith(_ =>
        {
            Volatile.Write(ref _roundDueSoon, 0);
            RoundDue();
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// Sessions and watches are kept alive by the silos' heartbeat to this gateway, not by calls per user. This
    /// loop repairs what a user grain may have lost: every <see cref="GatewayOptions.ReconcileInterval"/>, and at
    /// once when a silo is lost, one round checks every open session (one call per user, whatever their number of
    /// sockets here) and every presence watch, many at a time, and attaches again whatever the grain does not know.
    /// A round that could not reach every grain is run again after <see cref="GatewayOptions.LeaseRenewInterval"/>.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.UserReleased += userId => _ = ReattachAsync(userId);
        registry.Unwanted += userId => grains.User(userId).UnwatchPresenceAsync(Reference).Ignore();
        cluster.SiloLost += RoundDue;
        var o = options.Value;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = RenewConcurrency, CancellationToken = stoppingToken };
        while (!stoppingToken.IsCancellationRequested)
        {
            var due = _roundDue.Task;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                await Task.WhenAny(Task.Delay(o.ReconcileInterval, wait.Token), due);
                await wait.CancelAsync();
            }
            stoppingToken.ThrowIfCancellationRequested();
            if (due.IsCompleted) _roundDue = new(TaskCreationOptions.RunContinuationsAsynchronously);
            var started = Stopwatch.GetTimestamp();
            Volatile.Write(ref _peakRenewals, 0);
            Volatile.Write(ref _failedRenewals, 0);
            var detaches = new List<(string UserId, string ConnectionId)>();
            while (_detachLater.TryDequeue(out var detach)) detaches.Add(detach);
            await Parallel.ForEachAsync(detaches, parallel, async (d, _) =>
            {
                if (!await DetachFromGrainAsync(d.UserId, d.ConnectionId)) Interlocked.Increment(ref _failedRenewals);
            });
            var users = registry.Snapshot();
            await Parallel.ForEachAsync(users, parallel, (entry, _) => new ValueTask(RenewAsync(entry.Key, entry.Value, stoppingToken)));
            var watched = subscriptions.WatchedUsers();
            await Parallel.ForEachAsync(watched, parallel, (userId, _) => new ValueTask(RenewWatchAsync(userId, stoppingToken)));
            var elapsed = Stopwatch.GetElapsedTime(started);
            var failed = Volatile.Read(ref _failedRenewals);
            // Run again soon, the one way every failure asks for a round (a detach that failed already did).
            if (failed > 0) RoundDueSoon();
            logger.Log(failed > 0 ? LogLevel.Warning : LogLevel.Debug,
                "Checked the sessions of {Users} users and {Watched} presence watches in {ElapsedMs:0} ms, up to {Peak} calls at once, {Failed} failed ({Why})",
                users.Length, watched.Length, elapsed.TotalMilliseconds, Volatile.Read(ref _peakRenewals), failed, due.IsCompleted ? "asked for" : "periodic");
        }
    }

    // Calls in flight now, the most at once in this round (logged, so the pace can be checked), and the round's failures.
    private int _renewals;
    private int _peakRenewals;
    private int _failedRenewals;

    private async Task RenewAsync(string userId, ClientSession[] sessions, CancellationToken stoppingToken)
    {
        var inFlight = Interlocked.Increment(ref _renewals);
        for (var peak = Volatile.Read(ref _peakRenewals); inFlight > peak; peak = Volatile.Read(ref _peakRenewals))
        {
            if (Interlocked.CompareExchange(ref _peakRenewals, inFlight, peak) == peak) break;
        }
        try
        {
            var ids = new string[sessions.Length];
            for (var i = 0; i < ids.Length; i++) ids[i] = sessions[i].ConnectionId;
            var user = grains.User(userId);
            var unknown = await user.RenewDevicesAsync(ids);
            foreach (var session in sessions)
            {
                if (unknown.Contains(session.ConnectionId)) await AttachAgainAsync(user, session);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failedRenewals);
            logger.LogDebug(ex, "Checking the sessions of {UserId} failed", userId);
        }
        finally
        {
            Interlocked.Decrement(ref _renewals);
        }
    }

    /// <summary>
    /// The user's grain deactivated (e.g. its silo is stopping): its next activation knows none of this
    /// gateway's sessions or watches, so attach them again now rather than at the next reconciliation round.
    /// </summary>
    private async Task ReattachAsync(string userId)
    {
        // A silo that stops releases all of its users at once: at most RenewConcurrency of these in flight.
        await _reattaching.WaitAsync();
        try
        {
            var user = grains.User(userId);
            foreach (var session in registry.SessionsOf(userId))
            {
                if (!session.IsShuttingDown && !session.IsLoggedOut && !session.HasEnded) await AttachAgainAsync(user, session);
            }
            if (subscriptions.WatchersOf(userId).Length > 0) await user.WatchPresenceAsync(Reference);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Attaching the sessions of {UserId} again failed; a reconciliation round retries in {Delay}", userId, options.Value.LeaseRenewInterval);
            RoundDueSoon();
        }
        finally
        {
            _reattaching.Release();
        }
    }

    private volatile bool _shuttingDown;
    private readonly SemaphoreSlim _reattaching = new(RenewConcurrency);

    /// <summary>True once this gateway began shutting down: it takes no new sockets and says it is not ready.</summary>
    public bool IsShuttingDown => _shuttingDown;

    /// <summary>Refuses a new socket or poll session once this gateway is shutting down (the client goes elsewhere).</summary>
    public void EnsureTakingSessions()
    {
        if (_shuttingDown) throw new MessengerException(ErrorCode.Unavailable, "this gateway is shutting down; connect to another one.");
    }

    /// <summary>Marks this gateway as shutting down (see <see cref="GatewayShutdown"/>).</summary>
    public void BeginShutdown() => _shuttingDown = true;

    private async Task RenewWatchAsync(string userId, CancellationToken stoppingToken)
    {
        try
        {
            await grains.User(userId).WatchPresenceAsync(Reference);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failedRenewals);
            logger.LogDebug(ex, "Renewing the presence watch of {UserId} failed", userId);
        }
    }
}
