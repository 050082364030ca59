using Messenger.Grains;
using Messenger.Tests.Support;

namespace Messenger.Tests.Grains;

/// <summary>
/// A device session stand-in: the observer a gateway would register, recording every pushed update
/// in arrival order. Tests wait on it with a deadline instead of sleeping or polling.
/// </summary>
public sealed class UpdateRecorder : IUpdateObserver, IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly List<UserUpdate> _updates = [];
    private readonly Conditions _conditions;
    private readonly IGrainFactory _grains;
    private readonly IUserGrain _user;
    private readonly string _connectionId;
    private readonly HashSet<string> _recipients = [];
    private bool _detached;

    public UpdateRecorder(IGrainFactory grains, IUserGrain user, string connectionId)
    {
        _grains = grains;
        _user = user;
        _connectionId = connectionId;
        _conditions = new Conditions(_gate);
        Reference = grains.CreateObjectReference<IUpdateObserver>(this);
    }

    /// <summary>The reference handed to <see cref="IUserGrain.AttachDeviceAsync"/>.</summary>
    public IUpdateObserver Reference { get; }

    /// <summary>What <see cref="IUserGrain.AttachDeviceAsync"/> returned: the user's newest userSeq then.</summary>
    public long AttachedAtUserSeq { get; set; }

    /// <summary>Every user id the pushes were addressed to.</summary>
    public IReadOnlyList<string> Recipients
    {
        get { lock (_gate) return [.. _recipients]; }
    }

    /// <summary>A snapshot of the updates received so far, in arrival order.</summary>
    public IReadOnlyList<UserUpdate> Updates
    {
        get { lock (_gate) return [.. _updates]; }
    }

    public Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch)
    {
        lock (_gate)
        {
            foreach (var (userId, update) in batch.Expand())
            {
                _recipients.Add(userId);
                _updates.Add(update);
            }
            _conditions.Signal();
        }
        return Task.FromResult<IReadOnlyList<string>>([]);
    }

    private readonly List<PresenceStatus> _presence = [];
    private readonly List<TypingEvent> _typing = [];

    /// <summary>Presence changes pushed to this gateway, in arrival order.</summary>
    public IReadOnlyList<PresenceStatus> Presence { get { lock (_gate) return [.. _presence]; } }

    /// <summary>Typing events pushed for this device's user, in arrival order.</summary>
    public IReadOnlyList<TypingEvent> Typing { get { lock (_gate) return [.. _typing]; } }

    public Task OnPresenceAsync(PresenceStatus status)
    {
        lock (_gate) { _presence.Add(status); _conditions.Signal(); }
        return Task.CompletedTask;
    }

    public Task OnTypingAsync(string userId, TypingEvent typing)
    {
        lock (_gate) { _typing.Add(typing); _conditions.Signal(); }
        return Task.CompletedTask;
    }

    private readonly List<DeviceGrants> _grants = [];

    /// <summary>Device grants pushed to this gateway (logouts, deletions), in arrival order.</summary>
    public IReadOnlyList<DeviceGrants> Grants { get { lock (_gate) return [.. _grants]; } }

    public Task OnDevicesChangedAsync(DeviceGrants grants)
    {
        lock (_gate) { _grants.Add(grants); _conditions.Signal(); }
        return Task.CompletedTask;
    }

    private readonly List<string> _released = [];

    /// <summary>Users whose grain told this gateway it was deactivating, in arrival order.</summary>
    public IReadOnlyList<string> Released { get { lock (_gate) return [.. _released]; } }

    public Task OnUserReleasedAsync(string userId)
    {
        lock (_gate) { _released.Add(userId); _conditions.Signal(); }
        return Task.CompletedTask;
    }

    private int _heartbeats;
    private volatile bool _dead;

    /// <summary>Heartbeats answered so far.</summary>
    public int Heartbeats { get { lock (_gate) return _heartbeats; } }

    /// <summary>From now on the heartbeat fails, as when a gateway was killed (it says nothing and answers nothing).</summary>
    public void StopAnswering() => _dead = true;

    public Task OnHeartbeatAsync()
    {
        if (_dead) throw new InvalidOperationException("this gateway is gone");
        lock (_gate) { _heartbeats++; _conditions.Signal(); }
        return Task.CompletedTask;
    }

    /// <summary>Completes once this gateway has answered <paramref name="count"/> heartbeats; fails after a deadline.</summary>
    public Task WaitForHeartbeatsAsync(int count, TimeSpan? timeout = null) => _conditions.WaitFor(() => _heartbeats >= count, timeout ?? DefaultTimeout);

    /// <summary>Completes once <paramref name="userId"/>'s grain has told this gateway it was deactivating; fails after a deadline.</summary>
    public Task WaitForReleaseAsync(string userId, TimeSpan? timeout = null) =>
        _conditions.WaitFor(() => _released.Contains(userId), timeout ?? DefaultTimeout);

    /// <summary>Completes once <paramref name="done"/> holds over the presence and typing events received; fails after a deadline.</summary>
    public async Task WaitForEventsAsync(Func<IReadOnlyList<PresenceStatus>, IReadOnlyList<TypingEvent>, bool> done, TimeSpan? timeout = null)
    {
        try
        {
            await _conditions.WaitFor(() => done(_presence, _typing), timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Condition not met; presence: {string.Join(", ", Presence)}; typing: {string.Join(", ", Typing)}");
        }
    }

    /// <summary>Completes with the updates received once <paramref name="done"/> holds for them; fails after a deadline.</summary>
    public async Task<IReadOnlyList<UserUpdate>> WaitForAsync(Func<IReadOnlyList<UserUpdate>, bool> done, TimeSpan? timeout = null)
    {
        try
        {
            await _conditions.WaitFor(() => done(_updates), timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            var received = Updates;
            throw new TimeoutException($"Condition not met within {timeout ?? DefaultTimeout}; received {received.Count} updates: "
                + string.Join(", ", received.Select(u => $"{u.UserSeq}:{u.Kind}:{u.Seq}")));
        }
        return Updates;
    }

    /// <summary>Waits until at least <paramref name="count"/> updates have arrived.</summary>
    public Task<IReadOnlyList<UserUpdate>> WaitForCountAsync(int count) => WaitForAsync(u => u.Count >= count);

    /// <summary>Ends the device session (the socket closed).</summary>
    public async Task DetachAsync()
    {
        _detached = true;
        await _user.DetachDeviceAsync(_connectionId);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_detached) await DetachAsync();
        _grains.DeleteObjectReference<IUpdateObserver>(Reference);
    }
}
