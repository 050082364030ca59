using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>A gateway with short presence timings, so debouncing can be watched in seconds.</summary>
public sealed class PresenceServerFixture() : SettingsServerFixture(Timings)
{
    // Both delays are generous next to a connect-and-drop or an SDK reconnect (~0.1-0.5 s), so a
    // loaded CI machine cannot stretch a flap past them.
    public static readonly string[] Timings =
    [
        "--Presence:OnlineSettle=00:00:02", "--Presence:OfflineGrace=00:00:03",
        "--Presence:TypingTimeout=00:00:01.500", "--Presence:TypingMinInterval=00:00:00.500",
    ];
}

[CollectionDefinition(Name)]
public sealed class PresenceServerCollection : ICollectionFixture<PresenceServerFixture>
{
    public const string Name = "gateway process with short presence timings";
}

/// <summary>Presence and typing through the real gateway over real sockets.</summary>
[Collection(PresenceServerCollection.Name)]
public sealed class PresenceTests(PresenceServerFixture fixture)
{
    private Uri Url => fixture.Url;

    /// <summary>Alice, with a conversation with each of the others.</summary>
    private async Task<(ChatUser Alice, ChatUser[] Others, string[] Conversations)> CircleAsync(int others, int devices = 1)
    {
        var alice = await Chat.NewUserAsync(Url);
        var users = new ChatUser[others];
        var conversations = new string[others];
        for (var i = 0; i < others; i++)
        {
            users[i] = await Chat.NewUserAsync(Url, devices);
            conversations[i] = await Chat.OpenDirectAsync(Url, alice, users[i]);
        }
        return (alice, users, conversations);
    }

    private static async Task<Presence> NextPresenceAsync(MessengerClient device)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await device.PresenceChanges.ReadAsync(cts.Token);
    }

    private static async Task<TypingChange> NextTypingAsync(MessengerClient device)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await device.TypingChanges.ReadAsync(cts.Token);
    }

    [Fact]
    public async Task OnlineAfterSettle_OfflineAfterGrace_WithLastSeen_AndNothingInBetween()
    {
        var (alice, others, _) = await CircleAsync(1, devices: 2);
        var bob = others[0];
        await using var watcher = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        var initial = Assert.Single(await watcher.SubscribePresenceAsync([bob.Id]));
        Assert.Equal((bob.Id, false, (DateTimeOffset?)null), (initial.UserId, initial.Online, initial.LastSeen));

        var phone = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        var online = await NextPresenceAsync(watcher);
        Assert.Equal((bob.Id, true), (online.UserId, online.Online));

        // A second device coming and going changes nothing: bob stays online.
        await (await Chat.ConnectAsync(Url, bob.Sessions[1])).DisposeAsync();

        var before = DateTimeOffset.UtcNow;
        await phone.DisposeAsync();
        var after = DateTimeOffset.UtcNow;
        var offline = await NextPresenceAsync(watcher);
        Assert.Equal((bob.Id, false), (offline.UserId, offline.Online));
        Assert.InRange(offline.LastSeen!.Value, before.AddMilliseconds(-50), after.AddMilliseconds(50));

        using var http = Chat.Http(Url, alice.Sessions[0]);
        var pulled = Assert.Single(await http.GetPresenceAsync([bob.Id]));
        Assert.Equal(offline, pulled);
        Assert.Equal(offline, Assert.Single(await watcher.QueryPresenceAsync([bob.Id])));
    }

    [Fact]
    public async Task ConnectAndDrop_InsideTheSettleDelay_BroadcastsNothing()
    {
        var (alice, others, _) = await CircleAsync(2);
        var (bob, carol) = (others[0], others[1]);
        await using var watcher = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await watcher.SubscribePresenceAsync([bob.Id, carol.Id]);

        await (await Chat.ConnectAsync(Url, bob.Sessions[0])).DisposeAsync();
        // Carol connects after bob's flap; had the flap been broadcast, it would have come first.
        await using var carolDevice = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        var first = await NextPresenceAsync(watcher);
        Assert.Equal((carol.Id, true), (first.UserId, first.Online));

        var bobNow = Assert.Single(await watcher.QueryPresenceAsync([bob.Id]));
        Assert.False(bobNow.Online);
        Assert.NotNull(bobNow.LastSeen); // he was seen, briefly
    }

    [Fact]
    public async Task QuickReconnect_InsideTheGracePeriod_BroadcastsNothing()
    {
        var (alice, others, _) = await CircleAsync(2);
        var (bob, carol) = (others[0], others[1]);
        await using var watcher = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await watcher.SubscribePresenceAsync([bob.Id, carol.Id]);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        Assert.Equal((bob.Id, true), ((await NextPresenceAsync(watcher)).UserId, true));

        var connections = bobDevice.Connections;
        bobDevice.DropConnection(); // as on a train: the SDK reconnects within a few hundred ms
        await bobDevice.PingAsync();
        Assert.True(bobDevice.Connections > connections);

        await using var carolDevice = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        var next = await NextPresenceAsync(watcher);
        Assert.Equal((carol.Id, true), (next.UserId, next.Online));
        Assert.True(Assert.Single(await watcher.QueryPresenceAsync([bob.Id])).Online);
    }

    [Fact]
    public async Task Subscription_IsReplacedByTheNext_AndBelongsToItsConnection()
    {
        var (alice, others, _) = await CircleAsync(3);
        var (bob, carol, dave) = (others[0], others[1], others[2]);
        await using var watcher = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await watcher.SubscribePresenceAsync([bob.Id]);
        var replaced = await watcher.SubscribePresenceAsync([carol.Id, dave.Id]);
        Assert.Equal([carol.Id, dave.Id], replaced.Select(p => p.UserId));

        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        await using var carolDevice = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        Assert.Equal(carol.Id, (await NextPresenceAsync(watcher)).UserId); // bob's change is no longer watched

        // Another connection of the same user has no subscription of its own.
        var laptopSession = await Chat.Http(Url, alice.Sessions[0]).LoginAsync(alice.Username, alice.Password, "laptop");
        await using var laptop = await Chat.ConnectAsync(Url, laptopSession);
        await using var daveDevice = await Chat.ConnectAsync(Url, dave.Sessions[0]);
        Assert.Equal(dave.Id, (await NextPresenceAsync(watcher)).UserId);
        Assert.False(laptop.PresenceChanges.TryRead(out var unexpected), $"laptop got {unexpected}");

        // An empty subscription ends it.
        Assert.Empty(await watcher.SubscribePresenceAsync([]));
    }

    [Fact]
    public async Task Typing_ReachesTheOtherMembersDevices_ExpiresOnItsOwn_AndIsRateLimited()
    {
        var (alice, others, conversations) = await CircleAsync(1, devices: 2);
        var (bob, conversation) = (others[0], conversations[0]);
        await using var aliceDevice = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await using var bobPhone = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        await using var bobLaptop = await Chat.ConnectAsync(Url, bob.Sessions[1]);

        // Two signals back to back, well inside the minimum interval: one is taken, the other refused.
        var signals = new[] { aliceDevice.SendTypingAsync(conversation), aliceDevice.SendTypingAsync(conversation) };
        await Task.WhenAll(signals).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.Equal(1, signals.Count(t => t.IsCompletedSuccessfully));
        var tooSoon = Assert.IsType<MessengerClientException>(signals.Single(t => t.IsFaulted).Exception!.InnerException);
        Assert.Equal("rate_limited", tooSoon.Code);
        foreach (var device in new[] { bobPhone, bobLaptop })
        {
            Assert.Equal(new TypingChange(conversation, alice.Id, true, 1500), await NextTypingAsync(device));
        }

        // No renewal: it stops by itself, and every device hears so.
        foreach (var device in new[] { bobPhone, bobLaptop })
        {
            Assert.Equal(new TypingChange(conversation, alice.Id, false, 0), await NextTypingAsync(device));
        }

        // Sending a message ends typing at once.
        await aliceDevice.SendTypingAsync(conversation);
        Assert.True((await NextTypingAsync(bobPhone)).IsTyping);
        await aliceDevice.SendAsync(conversation, "done typing");
        Assert.False((await NextTypingAsync(bobPhone)).IsTyping);
        Assert.False(aliceDevice.TypingChanges.TryRead(out var own), $"the typist was told of their own typing: {own}");
    }

    [Fact]
    public async Task Strangers_CannotSeePresenceOrSignalTyping()
    {
        var (alice, others, conversations) = await CircleAsync(1);
        var (carol, mallory) = (others[0], await Chat.NewUserAsync(Url));
        await Chat.OpenDirectAsync(Url, mallory, carol);
        await using var device = await Chat.ConnectAsync(Url, mallory.Sessions[0]);
        using var http = Chat.Http(Url, mallory.Sessions[0]);

        Assert.Equal("not_contact", (await Assert.ThrowsAsync<MessengerClientException>(() => device.QueryPresenceAsync([alice.Id]))).Code);
        var rest = await Assert.ThrowsAsync<MessengerClientException>(() => http.GetPresenceAsync([carol.Id, alice.Id]));
        Assert.Equal(("not_contact", 403), (rest.Code, rest.HttpStatus));

        // A refused subscription leaves the previous one in force.
        await device.SubscribePresenceAsync([carol.Id]);
        Assert.Equal("not_contact", (await Assert.ThrowsAsync<MessengerClientException>(() => device.SubscribePresenceAsync([alice.Id]))).Code);
        await using var carolDevice = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        Assert.Equal((carol.Id, true), ((await NextPresenceAsync(device)).UserId, true));

        Assert.Equal("not_member", (await Assert.ThrowsAsync<MessengerClientException>(() => device.SendTypingAsync(conversations[0]))).Code);
        var tooMany = await Assert.ThrowsAsync<MessengerClientException>(() => device.QueryPresenceAsync(Enumerable.Range(0, 501).Select(i => $"u{i}").ToList()));
        Assert.Equal("out_of_range", tooMany.Code);
    }

    [Fact]
    public async Task Ack_TellsTheSenderWhenTheRecipientIsOffline()
    {
        var (alice, others, conversations) = await CircleAsync(1);
        var (bob, conversation) = (others[0], conversations[0]);
        await using var aliceDevice = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        Assert.Equal([bob.Id], (await aliceDevice.SendAsync(conversation, "are you there?")).OfflineRecipients);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        Assert.Empty((await aliceDevice.SendAsync(conversation, "there you are")).OfflineRecipients!);
    }
}

/// <summary>Presence across a crash of the whole process.</summary>
public sealed class PresenceCrashTests
{
    [Theory]
    [InlineData(GatewayStorage.Sqlite)]
    [InlineData(GatewayStorage.Postgres)]
    public async Task KillDashNine_ThenRestart_LeavesNobodyOnline(string backend)
    {
        await using var storage = await GatewayStorage.CreateAsync(backend);
        ChatUser alice, bob;
        await using (var server = await storage.StartGatewayAsync(PresenceServerFixture.Timings))
        {
            alice = await Chat.NewUserAsync(server.BaseAddress);
            bob = await Chat.NewUserAsync(server.BaseAddress);
            await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
            var watcher = await Chat.ConnectAsync(server.BaseAddress, alice.Sessions[0]);
            await watcher.SubscribePresenceAsync([bob.Id]);
            var bobDevice = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[0]);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            Assert.True((await watcher.PresenceChanges.ReadAsync(cts.Token)).Online);
            await server.KillAsync();
            await watcher.DisposeAsync();
            await bobDevice.DisposeAsync();
        }
        await using var restarted = await storage.StartGatewayAsync(PresenceServerFixture.Timings);
        using var http = Chat.Http(restarted.BaseAddress, alice.Sessions[0]);
        var presence = Assert.Single(await http.GetPresenceAsync([bob.Id]));
        Assert.False(presence.Online);
        Assert.NotNull(presence.LastSeen);
    }
}
