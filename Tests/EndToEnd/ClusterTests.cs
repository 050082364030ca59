using Messenger.Testing;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>Two silos and two gateways in client mode, real processes over a real PostgreSQL (<c>scripts/cluster.sh</c>).</summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await LocalCluster.StartAsync(silos: 2, gateways: 2, siloArgs: "--Dashboard:Enabled=true");

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class LocalClusterCollection : ICollectionFixture<LocalClusterFixture>
{
    public const string Name = "local cluster";
}

[Collection(LocalClusterCollection.Name)]
public sealed class ClusterTests(LocalClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task DevicesOnBothGateways_GetEveryMessage_InOneOrder_WithTokensFromEitherGateway()
    {
        var g1 = Cluster.Gateway(1);
        var g2 = Cluster.Gateway(2);
        // Registered through one gateway; each device logs in through one and connects through the other.
        var alice = await Chat.NewUserAsync(g1, devices: 2);
        var bob = await Chat.NewUserAsync(g2, devices: 2);
        var conversation = await Chat.OpenDirectAsync(g2, alice, bob);
        var devices = new List<MessengerClient>
        {
            await Chat.ConnectAsync(g2, alice.Sessions[0]),
            await Chat.ConnectAsync(g1, alice.Sessions[1]),
            await Chat.ConnectAsync(g1, bob.Sessions[0]),
            await Chat.ConnectAsync(g2, bob.Sessions[1]),
        };
        try
        {
            const int perDevice = 25;
            var acks = (await Task.WhenAll(devices.Select((device, d) => Task.WhenAll(Enumerable.Range(0, perDevice)
                .Select(i => device.SendAsync(conversation, $"device {d} message {i}", $"d{d}-m{i}")))))).SelectMany(a => a).ToList();
            var total = perDevice * devices.Count;

            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), acks.Select(a => a.Seq).Order());
            var views = await Task.WhenAll(devices.Select(d => Chat.CollectMessagesAsync(d, conversation, total)));
            Chat.AssertOneOrderEverywhere(views, conversation, acks);
        }
        finally
        {
            foreach (var d in devices) await d.DisposeAsync();
        }
    }

    [Fact]
    public async Task GroupAcrossGateways_OneHistoryEverywhere_RemovalCutsExactly_AndReceiptsReachTheSender()
    {
        var (g1, g2) = (Cluster.Gateway(1), Cluster.Gateway(2));
        var alice = await Chat.NewUserAsync(g1, devices: 2);
        var bob = await Chat.NewUserAsync(g2);
        var carol = await Chat.NewUserAsync(g1);
        using var aliceHttp = Chat.Http(g2, alice.Sessions[0]);
        var group = (await aliceHttp.CreateGroupAsync("Across", [bob.Id, carol.Id])).Conversation.ConversationId;
        await using var alicePhone = await Chat.ConnectAsync(g1, alice.Sessions[0]);
        await using var aliceLaptop = await Chat.ConnectAsync(g2, alice.Sessions[1]);
        await using var bobDevice = await Chat.ConnectAsync(g1, bob.Sessions[0]);
        await using var carolDevice = await Chat.ConnectAsync(g2, carol.Sessions[0]);

        var before = await alicePhone.SendAsync(group, "before carol leaves", "a1");
        var removal = await aliceHttp.RemoveMemberAsync(group, carol.Id);
        var after = await bobDevice.SendAsync(group, "after", "b1");

        var removedAt = Assert.Single(removal.Events).Seq;
        Assert.True(before.Seq < removedAt && removedAt < after.Seq);
        var carols = await Chat.CollectAsync(carolDevice, list => list.Any(u => u.Seq >= removedAt));
        var bobs = await Chat.CollectAsync(bobDevice, list => list.Any(u => u.Seq >= after.Seq && u.Kind == "message"));
        Assert.Equal([1L, before.Seq, removedAt], carols.Where(u => u.Kind == "message").Select(u => u.Seq));
        Assert.Equal([1L, before.Seq, removedAt, after.Seq], bobs.Where(u => u.Kind == "message").Select(u => u.Seq));
        // Bob's device (on the other gateway) received Alice's message: both of her devices hear of it.
        foreach (var device in new[] { alicePhone, aliceLaptop })
        {
            var updates = await Chat.CollectAsync(device, list => list.Any(u => u.Kind == "receipts" && u.Receipts!.Any(r => r.Seq == before.Seq && r.Delivered >= 1)));
            Assert.All(updates.Where(u => u.Kind == "receipts").SelectMany(u => u.Receipts!), r => Assert.True(r.Of <= 2));
        }
        var receipts = await aliceHttp.GetMessageReceiptsAsync(group, before.Seq);
        Assert.Contains(bob.Id, receipts.DeliveredTo);
    }

    [Fact]
    public async Task PresenceAndHistory_AreTheSameThroughEitherGateway()
    {
        var g1 = Cluster.Gateway(1);
        var g2 = Cluster.Gateway(2);
        var alice = await Chat.NewUserAsync(g1);
        var bob = await Chat.NewUserAsync(g1);
        var conversation = await Chat.OpenDirectAsync(g1, alice, bob);
        await using var watcher = await Chat.ConnectAsync(g1, alice.Sessions[0]);
        await watcher.SubscribePresenceAsync([bob.Id]);
        await using (var bobDevice = await Chat.ConnectAsync(g2, bob.Sessions[0]))
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var online = await watcher.PresenceChanges.ReadAsync(cts.Token);
            Assert.Equal((bob.Id, true), (online.UserId, online.Online));
            await bobDevice.SendAsync(conversation, "through gateway 2", "g2-1");
        }

        using var viaG1 = Chat.Http(g1, alice.Sessions[0]);
        using var viaG2 = Chat.Http(g2, alice.Sessions[0]);
        var page1 = await viaG1.GetHistoryAsync(conversation, after: 0, limit: 50);
        var page2 = await viaG2.GetHistoryAsync(conversation, after: 0, limit: 50);
        Assert.Equal("through gateway 2", Assert.Single(page1.Messages).Text);
        Assert.Equal(page1.Messages.Select(m => (m.Seq, m.ClientMsgId)), page2.Messages.Select(m => (m.Seq, m.ClientMsgId)));
    }

    [Fact]
    public async Task Dashboard_WhenEnabled_IsServedOnEverySilosHttpPort()
    {
        using var http = new HttpClient();
        foreach (var silo in Cluster.Silos)
        {
            using var page = await http.GetAsync(new Uri(silo, "/dashboard"));
            Assert.True(page.IsSuccessStatusCode, $"{silo}dashboard answered {(int)page.StatusCode}");
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task SiloMetrics_CountTheMessagesCommittedThroughTheCluster()
    {
        using var http = new HttpClient();
        async Task<double> CommittedAsync()
        {
            var total = 0.0;
            foreach (var silo in Cluster.Silos)
            {
                total += PrometheusText.Parse(await http.GetStringAsync(new Uri(silo, "/metrics"))).GetValueOrDefault("messenger_messages_committed_total");
            }
            return total;
        }
        var before = await CommittedAsync();
        var alice = await Chat.NewUserAsync(Cluster.Gateway(1));
        var bob = await Chat.NewUserAsync(Cluster.Gateway(2));
        var conversation = await Chat.OpenDirectAsync(Cluster.Gateway(1), alice, bob);
        using var send = Chat.Http(Cluster.Gateway(2), alice.Sessions[0]);
        for (var i = 0; i < 3; i++) await send.SendAsync(conversation, $"m{i}", $"metric {i}");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await CommittedAsync() < before + 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the silos' /metrics did not count the 3 messages within 20 s");
            await Task.Delay(250);
        }
        Assert.Equal(before + 3, await CommittedAsync());
    }
}
