namespace Messenger.Grains.Users;

/// <summary>A user's devices as stored: the user grain's own small state (Orleans grain storage).</summary>
[GenerateSerializer]
public sealed class UserDevicesState
{
    /// <summary>The logged-in devices by id (the default comparer, which is ordinal for strings and needs no serializing).</summary>
    [Id(0)] public Dictionary<string, DeviceRecord> Devices { get; set; } = [];

    /// <summary>The highest generation given to any login so far.</summary>
    [Id(1)] public long LastGeneration { get; set; }

    /// <summary>The lowest generation good for a device without a record (see <see cref="DeviceGrants"/>).</summary>
    [Id(2)] public long Floor { get; set; }

    /// <summary>The account is being deleted: every token is refused, and the grain finishes the deletion.</summary>
    [Id(3)] public bool Deleting { get; set; }

    /// <summary>
    /// The account was deleted. All that is left of it, so that its tokens are answered <c>logged_out</c>
    /// rather than as those of a user never known.
    /// </summary>
    [Id(4)] public bool Deleted { get; set; }

    /// <summary>The user's notifications carry the start of the message's text (see <see cref="PushSettings"/>).</summary>
    [Id(5)] public bool PushPreview { get; set; }
}

/// <summary>One logged-in device.</summary>
/// <param name="Name">The client's name for it, or null.</param>
/// <param name="CreatedAt">Its first login since it was last logged out.</param>
/// <param name="LastActiveAt">When the server last saw it.</param>
/// <param name="Generation">What its tokens carry.</param>
/// <param name="Push">Where it wants notifications, or null; it goes with the record when the device logs out.</param>
/// <param name="PushSince">When <paramref name="Push"/> was registered.</param>
[GenerateSerializer, Immutable]
public sealed record DeviceRecord(
    [property: Id(0)] string? Name,
    [property: Id(1)] DateTimeOffset CreatedAt,
    [property: Id(2)] DateTimeOffset LastActiveAt,
    [property: Id(3)] long Generation,
    [property: Id(4)] PushSubscription? Push = null,
    [property: Id(5)] DateTimeOffset PushSince = default);

/// <summary>
/// The rules of a user's devices: logins, logouts, the limit, the grants every gateway checks tokens
/// against, and "last active" kept in memory (saved with the next write, or by <see cref="FlushAsync"/>).
/// A change is written first and only then takes effect here, so what the grain tells gateways is never
/// ahead of what is durable. A plain class owned by the user grain; the write is passed in.
/// </summary>
internal sealed class UserDevices(UserDevicesState loaded, Func<UserDevicesState, Task> write)
{
    /// <summary>Most devices a user may have logged in at once; a new login beyond it logs out the least recently active.</summary>
    public const int MaxDevices = 100;

    /// <summary>Longest device name, in UTF-16 code units.</summary>
    public const int MaxNameLength = 64;

    private DeviceGrants? _grants;

    public UserDevicesState State { get; private set; } = loaded;

    /// <summary>Takes the state as storage read it (on activation).</summary>
    public void Load(UserDevicesState state)
    {
        State = state;
        HasPush = AnyPush(state);
        Dirty = false;
        _grants = null;
    }

    /// <summary>A "last active" time changed since the last write.</summary>
    public bool Dirty { get; private set; }

    public bool Deleting => State.Deleting;

    /// <summary>The account is being deleted or was: nothing may be delivered to it or join it.</summary>
    public bool Gone => State.Deleting || State.Deleted;

    /// <summary>The grants now (for <paramref name="userId"/>; <paramref name="exists"/>: the account exists).</summary>
    public DeviceGrants Grants(string userId, bool exists)
    {
        exists &= !State.Deleting && !State.Deleted;
        if (_grants is { } grants && grants.Exists == exists) return grants;
        var devices = new Dictionary<string, long>(State.Devices.Count);
        foreach (var (id, record) in State.Devices) devices[id] = record.Generation;
        return _grants = new DeviceGrants(userId, exists, State.Floor, devices, Deleted: Gone);
    }

    /// <summary>
    /// A login: the device's record is created (with a new generation) or refreshed (same generation, so
    /// its older tokens stay good). Returns the generation and the device logged out to make room, if any.
    /// </summary>
    public async Task<(long Generation, string? Evicted)> LogInAsync(string deviceId, string? name, DateTimeOffset now)
    {
        var next = Copy();
        string? evicted = null;
        if (next.Devices.TryGetValue(deviceId, out var record))
        {
            next.Devices[deviceId] = record with { Name = name ?? record.Name, LastActiveAt = Later(record.LastActiveAt, now) };
        }
        else
        {
            if (next.Devices.Count >= MaxDevices)
            {
                evicted = LeastRecentlyActive(next);
                Revoke(next, evicted);
            }
            next.Devices[deviceId] = record = new DeviceRecord(name, now, now, ++next.LastGeneration);
        }
        await CommitAsync(next);
        return (record.Generation, evicted);
    }

    /// <summary>Logs a device out (false when it is not logged in): its tokens, and every token of a device without a record, stop being good.</summary>
    public async Task<bool> LogOutAsync(string deviceId)
    {
        if (!State.Devices.ContainsKey(deviceId)) return false;
        var next = Copy();
        Revoke(next, deviceId);
        await CommitAsync(next);
        return true;
    }

    /// <summary>The first step of deleting the account: no token is good any more, durably.</summary>
    public Task BeginDeletionAsync() => CommitAsync(new UserDevicesState
    {
        LastGeneration = State.LastGeneration,
        Floor = State.LastGeneration + 1,
        Deleting = true,
    });

    /// <summary>The last step of deleting the account: only the mark that it was deleted stays.</summary>
    public Task CompleteDeletionAsync() => CommitAsync(new UserDevicesState
    {
        LastGeneration = State.LastGeneration,
        Floor = State.LastGeneration + 1,
        Deleted = true,
    });

    /// <summary>Sets (or, with null, removes) a logged-in device's push subscription; false when the device is not logged in.</summary>
    public async Task<bool> SetPushAsync(string deviceId, PushSubscription? subscription, DateTimeOffset now)
    {
        if (!State.Devices.TryGetValue(deviceId, out var record)) return false;
        if (record.Push == subscription) return true;
        var next = Copy();
        next.Devices[deviceId] = record with { Push = subscription, PushSince = subscription is null ? default : now };
        await CommitAsync(next);
        return true;
    }

    /// <summary>Turns the text preview in notifications on or off.</summary>
    public Task SetPushPreviewAsync(bool preview)
    {
        if (State.PushPreview == preview) return Task.CompletedTask;
        var next = Copy();
        next.PushPreview = preview;
        return CommitAsync(next);
    }

    /// <summary>Whether some device has a push subscription (kept with the state, so deliveries need not look).</summary>
    public bool HasPush { get; private set; }

    private static bool AnyPush(UserDevicesState state)
    {
        foreach (var record in state.Devices.Values) if (record.Push is not null) return true;
        return false;
    }

    /// <summary>The devices' push subscriptions, by device id.</summary>
    public List<DevicePushSubscription> PushSubscriptions()
    {
        var list = new List<DevicePushSubscription>();
        foreach (var (id, record) in State.Devices)
        {
            if (record.Push is { } push) list.Add(new DevicePushSubscription(id, push, record.PushSince));
        }
        list.Sort(static (a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        return list;
    }

    /// <summary>The server saw the device now (in memory; saved with the next write or flush).</summary>
    public void Touch(string deviceId, DateTimeOffset now)
    {
        if (!State.Devices.TryGetValue(deviceId, out var record) || record.LastActiveAt >= now) return;
        State.Devices[deviceId] = record with { LastActiveAt = now };
        Dirty = true;
    }

    /// <summary>Writes "last active" times that changed since the last write (deactivation).</summary>
    public Task FlushAsync() => Dirty && !State.Deleting && !State.Deleted ? CommitAsync(Copy()) : Task.CompletedTask;

    /// <summary>
    /// The devices, most recently active first; <paramref name="live"/> says whether one has a session now, and a
    /// live one is active <paramref name="now"/>.
    /// </summary>
    public List<DeviceInfo> List(Func<string, bool> live, DateTimeOffset now)
    {
        var list = new List<DeviceInfo>(State.Devices.Count);
        foreach (var (id, r) in State.Devices)
        {
            var isLive = live(id);
            list.Add(new DeviceInfo(id, r.Name, r.CreatedAt, isLive ? Later(r.LastActiveAt, now) : r.LastActiveAt, isLive));
        }
        list.Sort(static (a, b) => b.LastActiveAt != a.LastActiveAt
            ? b.LastActiveAt.CompareTo(a.LastActiveAt)
            : string.CompareOrdinal(a.DeviceId, b.DeviceId));
        return list;
    }

    private async Task CommitAsync(UserDevicesState next)
    {
        await write(next);
        // Times touched while the write was in flight are kept (and saved later).
        var dirty = false;
        foreach (var (id, record) in State.Devices)
        {
            if (next.Devices.TryGetValue(id, out var written) && record.LastActiveAt > written.LastActiveAt)
            {
                next.Devices[id] = written with { LastActiveAt = record.LastActiveAt };
                dirty = true;
            }
        }
        State = next;
        HasPush = AnyPush(next);
        Dirty = dirty;
        _grants = null;
    }

    // Removing the record alone would leave the device's tokens good by the floor: raise the floor past them.
    // Every revocation raises it strictly (it takes a generation of its own), so of two copies of the
    // grants the one with the higher floor is always the later: a gateway can tell a stale copy from a
    // fresh one even when two logouts come with no login between them.
    private static void Revoke(UserDevicesState state, string deviceId)
    {
        state.Devices.Remove(deviceId);
        state.Floor = ++state.LastGeneration + 1;
    }

    private UserDevicesState Copy() => new()
    {
        Devices = new Dictionary<string, DeviceRecord>(State.Devices),
        LastGeneration = State.LastGeneration,
        Floor = State.Floor,
        Deleting = State.Deleting,
        Deleted = State.Deleted,
        PushPreview = State.PushPreview,
    };

    private static string LeastRecentlyActive(UserDevicesState state)
    {
        string? oldest = null;
        var at = DateTimeOffset.MaxValue;
        foreach (var (id, record) in state.Devices)
        {
            if (record.LastActiveAt < at || (record.LastActiveAt == at && string.CompareOrdinal(id, oldest) < 0)) (oldest, at) = (id, record.LastActiveAt);
        }
        return oldest!;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
