using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>1:1 chat through the real gateway process over real WebSockets.</summary>
public abstract class ChatTests(ServerFixture fixture)
{
    [Collection(ServerCollection.Name)]
    public sealed class OnSqlite(SqliteServerFixture fixture) : ChatTests(fixture);

    [Collection(PostgresServerCollection.Name)]
    public sealed class OnPostgres(PostgresServerFixture fixture) : ChatTests(fixture);

    private Uri Url => fixture.Url;

    [Fact]
    public async Task ConcurrentSends_FromFiveDevices_LandInOneIdenticalOrderEverywhere()
    {
        var alice = await Chat.NewUserAsync(Url, devices: 2);
        var bob = await Chat.NewUserAsync(Url, devices: 3);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        var devices = new List<MessengerClient>();
        foreach (var s in alice.Sessions.Concat(bob.Sessions)) devices.Add(await Chat.ConnectAsync(Url, s));
        try
        {
            const int perDevice = 40;
            var sends = devices.Select((device, d) => Task.Run(async () =>
            {
                var acks = new List<Ack>();
                var inFlight = Enumerable.Range(0, perDevice)
                    .Select(i => device.SendAsync(conversation, $"device {d} message {i}", $"d{d}-m{i}")).ToList();
                foreach (var t in inFlight) acks.Add(await t);
                return acks;
            })).ToList();
            var allAcks = (await Task.WhenAll(sends)).SelectMany(a => a).ToList();
            var total = perDevice * devices.Count;

            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), allAcks.Select(a => a.Seq).Order());
            Assert.All(allAcks, a => Assert.False(a.Duplicate));

            var views = await Task.WhenAll(devices.Select(d => Chat.CollectMessagesAsync(d, conversation, total)));
            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), views[0].Where(u => u.Kind == "message").Select(u => u.Seq));
            Chat.AssertOneOrderEverywhere(views, conversation, allAcks);
        }
        finally
        {
            foreach (var d in devices) await d.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ack_CarriesSendersUserSeq_AndOtherDeviceSyncIncludesIt()
    {
        var alice = await Chat.NewUserAsync(Url, devices: 2);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var phone = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        var ack = await phone.SendAsync(conversation, "hi bob");
        Assert.Equal(1, ack.Seq);
        Assert.Equal(1, ack.UserSeq);

        // Read-your-writes: right after the ack, the sender's other device finds it by syncing.
        using var laptop = Chat.Http(Url, alice.Sessions[1]);
        var page = await laptop.SyncAsync(0);
        var update = Assert.Single(page.Updates);
        Assert.Equal(ack.UserSeq, update.UserSeq);
        Assert.Equal("hi bob", update.Message!.Text);
        Assert.Equal(alice.Id, update.Message.SenderId);
    }

    [Fact]
    public async Task APush_ReachesTheGatewayInTheSilosOwnProcess_ByADirectCall()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        await aliceHttp.SendAsync(conversation, "pushed-1", "pushed");

        Assert.Equal("pushed", Assert.Single(await Chat.CollectMessagesAsync(bobDevice, conversation, 1)).Message!.Text);
        // The silo's outbox found this process's gateway behind the observer reference its grains hold (a copy of the
        // one the gateway made), so pushes skip Orleans' messages; a lookup that missed would still deliver, slower.
        Assert.Contains("Pushes to the gateway in this process are handed to it by direct calls", fixture.Server.Output);
    }

    [Fact]
    public async Task OfflineDevice_SyncsEverythingInOrder_WhenItConnects()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using (var sender = await Chat.ConnectAsync(Url, alice.Sessions[0]))
        {
            var acks = await Task.WhenAll(Enumerable.Range(0, 1200).Select(i => sender.SendAsync(conversation, $"m{i}", $"c{i}")));
            Assert.Equal(1200, acks.Max(a => a.Seq));
        }
        // Bob was never online: 1,200 updates wait for him, more than two sync pages.
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        var updates = await Chat.CollectMessagesAsync(bobDevice, conversation, 1200);
        Chat.AssertGapless(updates);
        Assert.Equal(Enumerable.Range(1, 1200).Select(i => (long)i), updates.Select(u => u.Seq));
        Assert.Equal(1200, bobDevice.Cursor);
    }

    [Fact]
    public async Task Reconnect_AfterDrop_ResumesFromCursor_WithoutLossOrRepeat()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        for (var i = 0; i < 5; i++) await aliceHttp.SendAsync(conversation, $"before-{i}", $"before-{i}");
        var first = await Chat.CollectMessagesAsync(bobDevice, conversation, 5);

        var connections = bobDevice.Connections;
        bobDevice.DropConnection();
        for (var i = 0; i < 5; i++) await aliceHttp.SendAsync(conversation, $"after-{i}", $"after-{i}");
        var second = await Chat.CollectMessagesAsync(bobDevice, conversation, 5);

        Assert.True(bobDevice.Connections > connections, "the client should have reconnected");
        var all = first.Concat(second).ToList();
        Chat.AssertGapless(all);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), all.Select(u => u.Seq));
    }

    [Fact]
    public async Task Send_RetryWithSameClientMsgId_ReturnsOriginalAck_AndMakesNoSecondMessage()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var device = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        var original = await device.SendAsync(conversation, "only once", "retry-key");
        var viaSocket = await device.SendAsync(conversation, "only once", "retry-key");
        using var http = Chat.Http(Url, alice.Sessions[0]);
        var viaRest = await http.SendAsync(conversation, "retry-key", "only once");
        var next = await device.SendAsync(conversation, "a new one", "other-key");

        Assert.False(original.Duplicate);
        foreach (var retry in new[] { viaSocket, viaRest })
        {
            Assert.True(retry.Duplicate);
            Assert.Equal(original.Seq, retry.Seq);
            Assert.Equal(original.UserSeq, retry.UserSeq);
            Assert.Equal(original.SentAt, retry.SentAt);
        }
        Assert.Equal(original.Seq + 1, next.Seq);
        var history = await http.GetHistoryAsync(conversation);
        Assert.Equal(["only once", "a new one"], history.Messages.Select(m => m.Text));
        Assert.Equal(2, history.LastSeq);
    }

    [Fact]
    public async Task OpenDirect_IsIdempotent_AndSameForBothUsers()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        var first = await aliceHttp.OpenDirectAsync(bob.Id);
        var again = await aliceHttp.OpenDirectAsync(bob.Id);
        var fromBob = await bobHttp.OpenDirectAsync(alice.Id);
        Assert.Equal((first.ConversationId, first.CreatedAt), (again.ConversationId, again.CreatedAt));
        Assert.Equal(first.Members, again.Members);
        Assert.Equal(first.ConversationId, fromBob.ConversationId);
        Assert.Equal("direct", first.Kind);
        Assert.Equal(new[] { alice.Id, bob.Id }.Order(StringComparer.Ordinal), first.Members);
        Assert.Contains(await bobHttp.ListConversationsAsync(), c => c.ConversationId == first.ConversationId && c.LastMessage is null);
    }

    [Fact]
    public async Task History_PagesBothWays_AndCapsThePageSize()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var device = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await Task.WhenAll(Enumerable.Range(1, 600).Select(i => device.SendAsync(conversation, $"text {i}", $"k{i}")));
        using var http = Chat.Http(Url, bob.Sessions[0]);

        var newest = await http.GetHistoryAsync(conversation, limit: 50);
        Assert.Equal(Enumerable.Range(551, 50).Select(i => (long)i), newest.Messages.Select(m => m.Seq));
        Assert.True(newest.HasMore);
        Assert.Equal(600, newest.LastSeq);

        // Walk back to the start, then forward again, over REST and over the socket.
        var seen = new List<long>(newest.Messages.Select(m => m.Seq));
        var page = newest;
        while (page.HasMore)
        {
            page = await http.GetHistoryAsync(conversation, before: page.Messages[0].Seq, limit: 120);
            seen.InsertRange(0, page.Messages.Select(m => m.Seq));
        }
        Assert.Equal(Enumerable.Range(1, 600).Select(i => (long)i), seen);

        var forward = new List<Message>();
        long cursor = 0;
        HistoryPage next;
        do
        {
            next = await device.GetHistoryAsync(conversation, after: cursor, limit: 500);
            forward.AddRange(next.Messages);
            if (next.Messages.Count > 0) cursor = next.Messages[^1].Seq;
        }
        while (next.HasMore);
        Assert.Equal(Enumerable.Range(1, 600).Select(i => $"text {i}"), forward.Select(m => m.Text));

        var empty = await http.GetHistoryAsync(conversation, after: 600);
        Assert.Empty(empty.Messages);
        Assert.False(empty.HasMore);

        var tooBig = await Assert.ThrowsAsync<MessengerClientException>(() => http.GetHistoryAsync(conversation, limit: 501));
        Assert.Equal("out_of_range", tooBig.Code);
        var zero = await Assert.ThrowsAsync<MessengerClientException>(() => device.GetHistoryAsync(conversation, limit: 0));
        Assert.Equal("out_of_range", zero.Code);
    }

    [Fact]
    public async Task UnreadCounts_FollowMessagesAndReadMarks_OnAllDevices()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url, devices: 2);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var bobPhone = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        await using var bobLaptop = await Chat.ConnectAsync(Url, bob.Sessions[1]);
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[1]);
        for (var i = 1; i <= 5; i++) await aliceHttp.SendAsync(conversation, $"k{i}", $"message {i}");
        // Delivery to Bob follows the acks by moments (his list may lag until then: PROTOCOL 4.7).
        var delivered = await Chat.CollectMessagesAsync(bobLaptop, conversation, 5);

        var bobView = Assert.Single(await bobHttp.ListConversationsAsync());
        Assert.Equal((5L, 0L, 5L), (bobView.LastSeq, bobView.ReadSeq, bobView.Unread));
        Assert.Equal("message 5", bobView.LastMessage!.Text);
        var aliceView = Assert.Single(await aliceHttp.ListConversationsAsync());
        Assert.Equal(0, aliceView.Unread);

        Assert.Equal(3, await bobPhone.MarkReadAsync(conversation, 3));
        // Both of Bob's devices learn of the new mark through the update log.
        foreach (var (device, seen) in new[] { (bobPhone, 0L), (bobLaptop, delivered[^1].UserSeq) })
        {
            var updates = await Chat.CollectAsync(device, l => l.Any(u => u.Kind == "read"));
            var read = updates.Single(u => u.Kind == "read");
            Assert.Equal((conversation, 3L, 6L), (read.ConversationId, read.Seq, read.UserSeq));
            Chat.AssertGapless(updates, startAfter: seen);
        }
        Assert.Equal(2, Assert.Single(await bobHttp.ListConversationsAsync()).Unread);

        // A mark never moves back, and cannot pass the newest message.
        Assert.Equal(3, await bobLaptop.MarkReadAsync(conversation, 1));
        var beyond = await Assert.ThrowsAsync<MessengerClientException>(() => bobLaptop.MarkReadAsync(conversation, 6));
        Assert.Equal("out_of_range", beyond.Code);
        Assert.Equal(2, Assert.Single(await bobHttp.ListConversationsAsync()).Unread);

        // Replying marks everything before the reply read.
        await bobPhone.SendAsync(conversation, "reply");
        var after = Assert.Single(await bobHttp.ListConversationsAsync());
        Assert.Equal((6L, 6L, 0L), (after.LastSeq, after.ReadSeq, after.Unread));
        // Alice's list counts the reply once it is delivered to her (moments after Bob's ack).
        await using var alicePhone = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await Chat.CollectAsync(alicePhone, l => l.Any(u => u.Message?.Text == "reply"));
        Assert.Equal(1, Assert.Single(await aliceHttp.ListConversationsAsync()).Unread);
    }
}

/// <summary>A device that kept its cursor gets exactly the updates after it.</summary>
public abstract class CursorTests(ServerFixture fixture)
{
    [Collection(ServerCollection.Name)]
    public sealed class OnSqlite(SqliteServerFixture fixture) : CursorTests(fixture);

    [Collection(PostgresServerCollection.Name)]
    public sealed class OnPostgres(PostgresServerFixture fixture) : CursorTests(fixture);

    [Fact]
    public async Task Device_ReconnectingWithStoredCursor_GetsExactlyTheUpdatesAfterIt()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        using var aliceHttp = Chat.Http(fixture.Url, alice.Sessions[0]);
        for (var i = 1; i <= 5; i++) await aliceHttp.SendAsync(conversation, $"k{i}", $"m{i}");

        long stored;
        await using (var device = await Chat.ConnectAsync(fixture.Url, bob.Sessions[0]))
        {
            await Chat.CollectMessagesAsync(device, conversation, 5);
            stored = device.Cursor; // what an app would persist
        }
        Assert.Equal(5, stored);
        for (var i = 6; i <= 8; i++) await aliceHttp.SendAsync(conversation, $"k{i}", $"m{i}");

        await using var again = await Chat.ConnectAsync(fixture.Url, bob.Sessions[0], cursor: stored);
        var updates = await Chat.CollectMessagesAsync(again, conversation, 3);
        Assert.Equal([6L, 7L, 8L], updates.Select(u => u.UserSeq));
        Assert.Equal(["m6", "m7", "m8"], updates.Select(u => u.Message!.Text));
        Assert.False(again.Updates.TryRead(out var extra), $"unexpected extra update {extra}");
    }

    [Theory]
    [InlineData(ClientTransport.WebSocket)]
    [InlineData(ClientTransport.LongPoll)]
    public async Task Device_WithCursorBeyondTheServersLog_StartsOverFromZero(ClientTransport transport)
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        using var aliceHttp = Chat.Http(fixture.Url, alice.Sessions[0]);
        for (var i = 1; i <= 3; i++) await aliceHttp.SendAsync(conversation, $"k{i}", $"m{i}");

        // As after the server's data was replaced: the device remembers more than the server has.
        await using var device = await MessengerClient.ConnectAsync(fixture.Url, bob.Sessions[0].Token,
            new MessengerClientOptions { InitialCursor = 1000, Transport = transport });
        Assert.Equal(transport, device.ActiveTransport);
        var updates = await Chat.CollectMessagesAsync(device, conversation, 3);
        Assert.Equal([1L, 2L, 3L], updates.Select(u => u.UserSeq));
        Assert.Equal(3, device.Cursor);
    }
}
