using System.Collections.Concurrent;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Sessions;
using Messenger.Grains;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Auth;

/// <summary>
/// This gateway's copy of each user's device grants (<see cref="DeviceGrants"/>), so that checking a
/// token (every REST request, every handshake) needs no grain call. The first token of a user seen here,
/// and the first after the copy's trust ran out, fetches the grants from the user's grain, which registers
/// this gateway for a lease of <c>Messenger:DeviceLease</c> and from then on tells it of every logout
/// before answering the logout. The copy is trusted for <c>Gateway:LeaseRenewInterval</c> from before the
/// fetch, shorter than that lease, so the grain always still has this gateway registered while it trusts
/// its copy. The copy is distrusted early when the grain deactivates (its registrations go with it) and when
/// this gateway loses a silo (a grain that died with it comes back elsewhere without them).
/// </summary>
public sealed class DeviceGrantCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly GatewayNode _node;
    private readonly TimeProvider _time;
    private readonly long _trustTicks;
    private long _nextSweep;

    public DeviceGrantCache(GatewayNode node, ConnectionRegistry registry, ClusterConnection cluster, IOptions<GatewayOptions> options, TimeProvider time)
    {
        _node = node;
        _time = time;
        _trustTicks = (long)(options.Value.LeaseRenewInterval.TotalSeconds * time.TimestampFrequency);
        registry.DevicesChanged += Apply;
        registry.UserReleased += Distrust;
        cluster.SiloLost += DistrustAll;
    }

    /// <summary>
    /// Null when a token of <paramref name="deviceId"/> at <paramref name="generation"/> is good now, else why
    /// not (<see cref="DeviceGrants.Refusal"/>: <c>logged_out</c>, or <c>unauthorized</c> for a user not known here).
    /// </summary>
    public async ValueTask<ErrorCode?> CheckAsync(string userId, string deviceId, long generation)
    {
        SweepNowAndThen();
        while (true)
        {
            var entry = _entries.GetOrAdd(userId, static _ => new Entry());
            TaskCompletionSource? mine = null;
            Task fetch;
            lock (entry)
            {
                if (entry.Removed) continue;
                // A deleted account stays deleted: no need to ask again.
                if (entry.Grants is { } grants && (grants.Deleted || _time.GetTimestamp() < entry.TrustedUntil)) return grants.Refusal(deviceId, generation);
                if (entry.Fetch is null)
                {
                    mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    entry.Fetch = mine.Task;
                }
                fetch = entry.Fetch;
            }
            if (mine is not null) _ = FetchAsync(userId, deviceId, entry, mine);
            await fetch;
            lock (entry) return entry.Grants!.Refusal(deviceId, generation);
        }
    }

    private async Task FetchAsync(string userId, string deviceId, Entry entry, TaskCompletionSource done)
    {
        // Trust counts from before the call: the grain's lease counts from when it got the call, later.
        var started = _time.GetTimestamp();
        long epoch;
        lock (entry) epoch = entry.Epoch;
        try
        {
            var grants = await _node.WatchDevicesAsync(userId, deviceId);
            lock (entry)
            {
                // A change pushed while the fetch was on its way may be newer than what it brought.
                if (entry.Grants is null || grants.Supersedes(entry.Grants)) entry.Grants = grants;
                // Distrusted meanwhile: the registration this fetch made may be gone already; used once, not trusted.
                if (entry.Epoch == epoch) entry.TrustedUntil = started + _trustTicks;
                entry.Fetch = null;
            }
            done.SetResult();
        }
        catch (Exception ex)
        {
            lock (entry) entry.Fetch = null;
            done.SetException(ex);
        }
    }

    /// <summary>A user's grain says the grants changed: applied before the grain hears back.</summary>
    public void Apply(DeviceGrants grants)
    {
        while (true)
        {
            var entry = _entries.GetOrAdd(grants.UserId, static _ => new Entry());
            lock (entry)
            {
                if (entry.Removed) continue;
                if (entry.Grants is null || grants.Supersedes(entry.Grants)) entry.Grants = grants;
                return;
            }
        }
    }

    /// <summary>The user's grain went away, and with it this gateway's registration: ask again next time.</summary>
    public void Distrust(string userId)
    {
        if (_entries.TryGetValue(userId, out var entry)) Distrust(entry);
    }

    private void DistrustAll()
    {
        foreach (var (_, entry) in _entries) Distrust(entry);
    }

    private static void Distrust(Entry entry)
    {
        lock (entry)
        {
            entry.TrustedUntil = 0;
            entry.Epoch++;
        }
    }

    /// <summary>Every trust interval, drops the entries nobody used for a whole interval.</summary>
    private void SweepNowAndThen()
    {
        var now = _time.GetTimestamp();
        var next = Volatile.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + _trustTicks, next) != next) return;
        foreach (var (userId, entry) in _entries)
        {
            lock (entry)
            {
                if (entry.Fetch is not null || now < entry.TrustedUntil + _trustTicks) continue;
                entry.Removed = true;
            }
            _entries.TryRemove(new KeyValuePair<string, Entry>(userId, entry));
        }
    }

    private sealed class Entry
    {
        public DeviceGrants? Grants;
        public long TrustedUntil;   // TimeProvider timestamp; 0: not trusted
        public Task? Fetch;         // the fetch in progress, shared by every request waiting for it
        public bool Removed;        // swept: take a new entry
        public long Epoch;          // moves on each distrust, so a fetch that began before one does not restore trust
    }
}
