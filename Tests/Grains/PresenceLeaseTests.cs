using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>
/// Device sessions and presence watches live as long as their gateway answers the silo's heartbeat. A gateway
/// that dies says nothing: its sessions must end by its lease running out alone. Here the "gateway" attaches a
/// device and then answers no heartbeat and detaches nothing, as after a kill -9.
/// </summary>
public abstract class PresenceLeaseTests(ClusterFixture cluster) : IAsyncLifetime
{
    // Two seconds, not one: a test gateway in a busy test run can be late to a third of a second's heartbeats
    // three times in a row (a silo gave up a live test gateway so, once, in CI with a 1 s lease).
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(500);
    // Long enough that the keep-alive ticks (every half of it) cannot stand in for the silo telling a user a gateway is gone.
    private static readonly TimeSpan CollectionAge = TimeSpan.FromSeconds(10);
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Messenger:DeviceLease"] = Lease.ToString(),
        ["Presence:OnlineSettle"] = "00:00:00",
        ["Presence:OfflineGrace"] = Grace.ToString(),
        [ClusterFixture.CollectionAgeKey] = CollectionAge.ToString(),
    };
    private readonly ClusterFixture _cluster = cluster;

    public sealed class OnSqlite() : PresenceLeaseTests(new SqliteClusterFixture(1, Settings));

    public sealed class OnPostgres() : PresenceLeaseTests(new PostgresClusterFixture(1, Settings));

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task UserGrainDeactivating_TellsTheGatewaysHoldingItsSessionsAndWatches_SoTheyAttachAgain()
    {
        var client = _cluster.Client;
        var alice = await _cluster.NewUserAsync();
        var bob = await _cluster.NewUserAsync();
        var carol = await _cluster.NewUserAsync();
        await _cluster.OpenDirectAsync(alice, bob);
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        await using var devicesGateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        await using var watchersGateway = new UpdateRecorder(client, client.GetGrain<IUserGrain>(alice.UserId), "alice-conn");
        await using var bystander = new UpdateRecorder(client, client.GetGrain<IUserGrain>(carol.UserId), "carol-conn");
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, devicesGateway.Reference);
        await bobGrain.WatchPresenceAsync(watchersGateway.Reference);

        // Every idle activation goes, as when a silo shuts down.
        await client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        await devicesGateway.WaitForReleaseAsync(bob.UserId);
        await watchersGateway.WaitForReleaseAsync(bob.UserId);
        Assert.DoesNotContain(bob.UserId, bystander.Released);
        // The next activation starts with nothing: attaching again is what makes the device live there.
        Assert.False((await bobGrain.GetPresenceAsync()).Online);
        Assert.Equal(["bob-conn"], await bobGrain.RenewDevicesAsync(["bob-conn"]));
    }

    [Fact]
    public async Task LiveGateway_KeepsItsSessionsAndWatches_WithNoCallsOfItsOwn_BeyondManyLeases()
    {
        var client = _cluster.Client;
        var alice = await _cluster.NewUserAsync();
        var bob = await _cluster.NewUserAsync();
        var direct = await _cluster.OpenDirectAsync(alice, bob);
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        await using var gateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        Assert.False((await bobGrain.WatchPresenceAsync(gateway.Reference)).Online);
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, gateway.Reference);
        await gateway.WaitForEventsAsync((p, _) => p.Count >= 1);

        // A heartbeat comes every third of a lease: nine of them are three leases with no call from the gateway.
        var before = gateway.Heartbeats;
        await gateway.WaitForHeartbeatsAsync(before + 9);

        Assert.True((await bobGrain.GetPresenceAsync()).Online);
        Assert.Empty(await bobGrain.RenewDevicesAsync(["bob-conn"]));
        Assert.Single(gateway.Presence); // still the one "online", no "offline" in between
        var ack = await direct.SendAsync(alice.UserId, "still-there", "hello?");
        Assert.Empty(ack.OfflineRecipients);
        await gateway.WaitForAsync(u => u.Any(x => x.Message?.Text == "hello?"));
    }

    [Fact]
    public async Task AUserWithASession_IsNotCollectedWhenIdle_WhileOneWithout_Is()
    {
        var client = _cluster.Client;
        var bob = await _cluster.NewUserAsync();
        var carol = await _cluster.NewUserAsync();
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        await using var gateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, gateway.Reference);
        await client.GetGrain<IUserGrain>(carol.UserId).GetProfileAsync();
        Assert.True(await IsActiveAsync(bob.UserId) && await IsActiveAsync(carol.UserId));

        // Nothing calls either grain now (the heartbeat goes to the gateway, not to them). Carol's goes after the
        // collection age; bob's sessions live only in his activation, which keeps itself alive.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await IsActiveAsync(carol.UserId)) await Task.Delay(250, deadline.Token);

        Assert.True(await IsActiveAsync(bob.UserId));
        Assert.DoesNotContain(bob.UserId, gateway.Released);
        Assert.Empty(await bobGrain.RenewDevicesAsync(["bob-conn"]));
    }

    [Fact]
    public async Task AnOnlineUser_IsRecordedAsSeenOnceALease_SoACrashLosesAtMostAboutALease()
    {
        var client = _cluster.Client;
        var bob = await _cluster.NewUserAsync();
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        await using var gateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        await using var storage = _cluster.OpenStorage();
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, gateway.Reference);
        Assert.True((await bobGrain.GetPresenceAsync()).Online);
        var wentOnline = (await storage.UserLogs.LoadUserAsync(bob.UserId)).LastSeen!.Value;

        // Nothing of bob's changes: the silo moves his stored "last seen" on by itself while he stays online.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        DateTimeOffset stored;
        while ((stored = (await storage.UserLogs.LoadUserAsync(bob.UserId)).LastSeen!.Value) < wentOnline + Lease)
        {
            await Task.Delay(100, deadline.Token);
        }
        Assert.InRange(stored, wentOnline + Lease, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.True((await bobGrain.GetPresenceAsync()).Online);

        // Once he is offline, it is his "last seen" that stays, through more than a lease of the upkeep's rounds.
        await bobGrain.WatchPresenceAsync(gateway.Reference);
        await bobGrain.DetachDeviceAsync("bob-conn");
        await gateway.WaitForEventsAsync((p, _) => p.Any(s => !s.Online));
        var lastSeen = gateway.Presence.Last(s => !s.Online).LastSeen!.Value;
        await gateway.WaitForHeartbeatsAsync(gateway.Heartbeats + 6);
        Assert.Equal(lastSeen, (await storage.UserLogs.LoadUserAsync(bob.UserId)).LastSeen);
    }

    private async Task<bool> IsActiveAsync(string userId)
    {
        var statistics = await _cluster.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return statistics.Any(s => s.GrainId.Key.ToString() == userId && s.GrainType.Contains("UserGrain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeadGatewaysSessions_GoOfflineForWatchers_AfterLeasePlusGrace()
    {
        var client = _cluster.Client;
        var alice = await _cluster.NewUserAsync();
        var bob = await _cluster.NewUserAsync();
        await _cluster.OpenDirectAsync(alice, bob);

        // Alice's gateway watches bob; bob's gateway attaches his device and then "dies": it answers no heartbeat.
        await using var alicesGateway = new UpdateRecorder(client, client.GetGrain<IUserGrain>(alice.UserId), "alice-conn");
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        Assert.False((await bobGrain.WatchPresenceAsync(alicesGateway.Reference)).Online);
        await using var bobsGateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        var attachedAt = DateTimeOffset.UtcNow;
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, bobsGateway.Reference);
        bobsGateway.StopAnswering();

        // Alice's gateway is alive: it answers the heartbeats, and makes no call of its own.
        await alicesGateway.WaitForEventsAsync((p, _) => p.Count >= 1);
        Assert.True(alicesGateway.Presence[0].Online);
        await alicesGateway.WaitForEventsAsync((p, _) => p.Count >= 2);
        var offlineSeenAt = DateTimeOffset.UtcNow;
        var offline = alicesGateway.Presence[1];
        Assert.Equal((bob.UserId, false), (offline.UserId, offline.Online));
        // Last seen is the device's last sign of life (its attach; no heartbeat was answered after). The session ended
        // when the gateway's lease ran out, not sooner; the grace counts from that last sign of life, so it has already passed then.
        Assert.InRange(offline.LastSeen!.Value, attachedAt.AddMilliseconds(-50), attachedAt.AddMilliseconds(500));
        Assert.True(offlineSeenAt - attachedAt >= Lease - TimeSpan.FromMilliseconds(50), $"offline after only {offlineSeenAt - attachedAt}");
        // ...and not much later: a heartbeat interval and a heartbeat's timeout after the lease ran out, then the grace
        // (plus a margin for a loaded machine). Without the silo telling the grain, only a keep-alive tick would.
        var latest = Lease + 2 * (Lease / 3) + Grace + TimeSpan.FromSeconds(1.5);
        Assert.True(offlineSeenAt - attachedAt <= latest, $"offline only after {offlineSeenAt - attachedAt}");
        Assert.False((await bobGrain.GetPresenceAsync()).Online);
        Assert.True(alicesGateway.Heartbeats > 0);
        // The ended session no longer gets pushes, and a check reports it unknown so a live gateway re-attaches.
        Assert.Equal(["bob-conn"], await bobGrain.RenewDevicesAsync(["bob-conn"]));
        // Attaching again (the gateway is back) makes it live again, on a new lease.
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, bobsGateway.Reference);
        Assert.Empty(await bobGrain.RenewDevicesAsync(["bob-conn"]));
    }
}
