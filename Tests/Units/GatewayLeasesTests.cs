using Messenger.Grains;
using Messenger.Grains.Presence;

namespace Messenger.Tests.Units;

/// <summary>
/// One silo's leases of the gateways its users hold sessions and watches of: a gateway is given up only after a
/// whole lease unheard in which it left a lease's heartbeats unanswered, with exactly the users who held it; one
/// heard from again gets a new lease.
/// </summary>
public sealed class GatewayLeasesTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private readonly GatewayLeases _leases = new(Lease, TimeSpan.FromMinutes(1));
    private readonly IUpdateObserver _east = new Gateway();
    private readonly IUpdateObserver _west = new Gateway();

    [Fact]
    public void AGatewayHeardFromWithinTheLease_IsKept_AndOneUnheardForAWholeLease_IsGivenUpWithItsHolders()
    {
        var east = _leases.Hold(_east, "alice", T0);
        Assert.Same(east, _leases.Hold(_east, "bob", T0.AddSeconds(10)));
        var west = _leases.Hold(_west, "alice", T0);
        Assert.Equal(3, _leases.Holders);
        Assert.Equal(2, _leases.Snapshot().Length);

        west.Heard(T0.AddSeconds(50)); // the heartbeat answered
        west.Heard(T0.AddSeconds(20)); // a late answer never moves it back
        Assert.Equal(T0.AddSeconds(50), west.HeardAt);

        MissBeats(east, GatewayLeases.HeartbeatsPerLease);
        MissBeats(west, GatewayLeases.HeartbeatsPerLease);
        Assert.Empty(_leases.GiveUpSilent(T0.AddSeconds(69.999)));
        var gone = Assert.Single(_leases.GiveUpSilent(T0.AddSeconds(70))); // 60 s after bob's hold, east's last sign of life
        Assert.Same(east, gone.Lease);
        Assert.Equal(["alice", "bob"], gone.Holders.Order());
        Assert.True(east.Gone);
        Assert.False(west.Gone);
        Assert.Equal([west], _leases.Snapshot());
        Assert.Empty(_leases.GiveUpSilent(T0.AddSeconds(109.999)));
        Assert.True(Assert.Single(_leases.GiveUpSilent(T0.AddSeconds(110))).Lease.Gone);
    }

    [Fact]
    public void AGatewayGivenUp_GetsANewLeaseWhenItCallsAgain_AndLettingTheOldOneChangesNothing()
    {
        var old = _leases.Hold(_east, "alice", T0);
        MissBeats(old, GatewayLeases.HeartbeatsPerLease);
        Assert.Single(_leases.GiveUpSilent(T0 + Lease));

        var renewed = _leases.Hold(_east, "bob", T0.AddMinutes(2));
        Assert.NotSame(old, renewed);
        Assert.False(renewed.Gone);
        _leases.Let(old, "bob"); // a grain tidying a session of the given-up lease
        Assert.Equal(1, _leases.Holders);
        MissBeats(renewed, GatewayLeases.HeartbeatsPerLease);
        Assert.Empty(_leases.GiveUpSilent(T0.AddMinutes(2) + Lease - TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void AGatewayTheSiloDidNotAskALeasesWorth_IsKept_HoweverLongUnheard_AndAnyAnswerStartsTheCountAgain()
    {
        // A silo whose own heartbeat loop stalled (a long pause, a slow round) has not asked: the gateway is not silent.
        var east = _leases.Hold(_east, "alice", T0);
        Assert.Equal(TimeSpan.FromSeconds(20), _leases.HeartbeatInterval);
        MissBeats(east, GatewayLeases.HeartbeatsPerLease - 1);
        Assert.Empty(_leases.GiveUpSilent(T0 + 5 * Lease));
        Assert.False(east.Gone);

        east.Heard(T0 + 5 * Lease); // a late answer to one of them
        Assert.Equal(0, east.Unanswered);
        MissBeats(east, GatewayLeases.HeartbeatsPerLease - 1);
        Assert.Empty(_leases.GiveUpSilent(T0 + 7 * Lease));

        MissBeats(east, 1);
        Assert.Same(east, Assert.Single(_leases.GiveUpSilent(T0 + 7 * Lease)).Lease);
        Assert.True(east.Gone);
    }

    private static void MissBeats(GatewayLease lease, int count)
    {
        for (var i = 0; i < count; i++) lease.Unheard();
    }

    [Fact]
    public void AGatewayNobodyHolds_GetsNoHeartbeat_AndIsNeverGivenUp()
    {
        var east = _leases.Hold(_east, "alice", T0);
        _leases.Hold(_east, "bob", T0);
        _leases.Let(east, "alice");
        Assert.Single(_leases.Snapshot());
        _leases.Let(east, "bob");
        _leases.Let(east, "bob"); // twice: no harm

        Assert.Empty(_leases.Snapshot());
        Assert.Equal(0, _leases.Holders);
        Assert.Empty(_leases.GiveUpSilent(T0 + 10 * Lease));
        Assert.False(east.Gone);
    }

    private sealed class Gateway : IUpdateObserver
    {
        public Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch) => Task.FromResult<IReadOnlyList<string>>([]);
        public Task OnPresenceAsync(PresenceStatus status) => Task.CompletedTask;
        public Task OnTypingAsync(string userId, TypingEvent typing) => Task.CompletedTask;
        public Task OnDevicesChangedAsync(DeviceGrants grants) => Task.CompletedTask;
        public Task OnUserReleasedAsync(string userId) => Task.CompletedTask;
        public Task OnHeartbeatAsync() => Task.CompletedTask;
    }
}
