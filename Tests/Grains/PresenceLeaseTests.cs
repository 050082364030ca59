using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>
/// A gateway that dies says nothing: its device sessions must end by lease expiry alone. Here the
/// "gateway" attaches a device and then neither renews nor detaches, as after a kill -9.
/// </summary>
public abstract class PresenceLeaseTests(ClusterFixture cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(500);
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Messenger:DeviceLease"] = Lease.ToString(),
        ["Presence:OnlineSettle"] = "00:00:00",
        ["Presence:OfflineGrace"] = Grace.ToString(),
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
    public async Task DeadGatewaysSessions_GoOfflineForWatchers_AfterLeasePlusGrace()
    {
        var client = _cluster.Client;
        var alice = await _cluster.NewUserAsync();
        var bob = await _cluster.NewUserAsync();
        await _cluster.OpenDirectAsync(alice, bob);

        // Alice's gateway watches bob; bob's gateway attaches his device and then "dies".
        await using var alicesGateway = new UpdateRecorder(client, client.GetGrain<IUserGrain>(alice.UserId), "alice-conn");
        var bobGrain = client.GetGrain<IUserGrain>(bob.UserId);
        Assert.False((await bobGrain.WatchPresenceAsync(alicesGateway.Reference)).Online);
        await using var bobsGateway = new UpdateRecorder(client, bobGrain, "bob-conn");
        var attachedAt = DateTimeOffset.UtcNow;
        await bobGrain.AttachDeviceAsync("bob-conn", "phone", 0, bobsGateway.Reference);

        // Alice's gateway is alive: it renews its watch as a real gateway does.
        using var stop = new CancellationTokenSource();
        var renewals = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (await timer.WaitForNextTickAsync(stop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
            {
                await bobGrain.WatchPresenceAsync(alicesGateway.Reference);
            }
        });

        await alicesGateway.WaitForEventsAsync((p, _) => p.Count >= 1);
        Assert.True(alicesGateway.Presence[0].Online);
        await alicesGateway.WaitForEventsAsync((p, _) => p.Count >= 2);
        var offlineSeenAt = DateTimeOffset.UtcNow;
        var offline = alicesGateway.Presence[1];
        Assert.Equal((bob.UserId, false), (offline.UserId, offline.Online));
        // Last seen is the device's last sign of life (its attach). The session ended by its lease running
        // out, not sooner; the grace counts from that last sign of life, so it has already passed then.
        Assert.InRange(offline.LastSeen!.Value, attachedAt.AddMilliseconds(-50), attachedAt.AddMilliseconds(500));
        Assert.True(offlineSeenAt - attachedAt >= Lease - TimeSpan.FromMilliseconds(50), $"offline after only {offlineSeenAt - attachedAt}");
        Assert.False((await bobGrain.GetPresenceAsync()).Online);
        // The expired session no longer gets pushes, and a renewal reports it unknown so a live gateway re-attaches.
        Assert.Equal(["bob-conn"], await bobGrain.RenewDevicesAsync(["bob-conn"]));
        await stop.CancelAsync();
        await renewals;
    }
}
