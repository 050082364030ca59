using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>A gateway with short long-poll and lease timings, so a device that stops polling is seen going away in seconds.</summary>
public sealed class LongPollServerFixture() : SettingsServerFixture(Timings)
{
    public static readonly string[] Timings =
    [
        "--Gateway:PollHold=00:00:05", "--Gateway:PollSessionTimeout=00:00:01", "--Gateway:LeaseRenewInterval=00:00:01",
        "--Messenger:DeviceLease=00:00:03", "--Presence:OnlineSettle=00:00:00", "--Presence:OfflineGrace=00:00:01",
    ];
}

[CollectionDefinition(Name)]
public sealed class LongPollServerCollection : ICollectionFixture<LongPollServerFixture>
{
    public const string Name = "gateway process with short long-poll timings";
}

/// <summary>Long-poll through the real gateway: the same cursor, the same log, the same liveness as a socket.</summary>
[Collection(LongPollServerCollection.Name)]
public sealed class LongPollTests(LongPollServerFixture fixture)
{
    private Uri Url => fixture.Url;

    [Fact]
    public async Task Poll_AnswersAtOnceWithUpdatesAfterTheCursor_ElseHoldsUntilAMessageArrives()
    {
        var (alice, bob, conversation) = await PairAsync();
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        await aliceHttp.SendAsync(conversation, "m1", "first");

        var first = await bobHttp.PollAsync(after: 0);
        Assert.Equal((1L, "first"), (Assert.Single(first.Updates).UserSeq, first.Updates[0].Message!.Text));
        Assert.Equal(1, first.UserSeq);

        // Nothing after cursor 1 yet: the poll waits; the message wakes it (a poll that ran out its hold answers empty).
        var waiting = bobHttp.PollAsync(after: 1, wait: TimeSpan.FromSeconds(5));
        await aliceHttp.SendAsync(conversation, "m2", "second");
        var second = await waiting;
        Assert.Equal((2L, "second"), (Assert.Single(second.Updates).UserSeq, second.Updates[0].Message!.Text));
        Assert.Empty(second.Events); // the push that woke it is not an event: the update came from the log
    }

    [Fact]
    public async Task Poll_WhenNothingHappens_AnswersEmptyOnceTheHoldIsOver()
    {
        var (_, bob, _) = await PairAsync();
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        var started = Stopwatch.StartNew();
        var result = await bobHttp.PollAsync(after: 0, wait: TimeSpan.FromSeconds(0.5));
        Assert.Empty(result.Updates);
        Assert.Empty(result.Events);
        Assert.Equal(0, result.UserSeq);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(0.5), $"answered after {started.Elapsed}, before the hold was over");
    }

    [Fact]
    public async Task SecondPollOfADevice_ReplacesTheFirst_WhichAnswersPollReplaced()
    {
        var (alice, bob, conversation) = await PairAsync();
        using var first = Chat.Http(Url, bob.Sessions[0]);
        using var second = Chat.Http(Url, bob.Sessions[0]);
        var polls = new[] { first.PollAsync(0, wait: TimeSpan.FromSeconds(5)), second.PollAsync(0, wait: TimeSpan.FromSeconds(5)) };
        // Whichever came second replaced the other; a message then ends the one left.
        var replaced = await Task.WhenAny(polls);
        var ex = await Assert.ThrowsAsync<MessengerClientException>(() => replaced);
        Assert.Equal(("poll_replaced", 409), (ex.Code, ex.HttpStatus));
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        await aliceHttp.SendAsync(conversation, "m1", "hello");
        var survivor = await polls.Single(p => p != replaced);
        Assert.Single(survivor.Updates);
    }

    [Fact]
    public async Task PollingDevice_IsLiveForAcksAndPresence_UntilItStopsPolling()
    {
        var (alice, bob, conversation) = await PairAsync();
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        Assert.Equal([bob.Id], (await aliceHttp.SendAsync(conversation, "before", "bob never polled")).OfflineRecipients);

        using var stop = new CancellationTokenSource();
        var cursor = 0L;
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await bobHttp.PollAsync(cursor, wait: TimeSpan.FromSeconds(1));
                if (result.Updates.Count > 0) cursor = result.Updates[^1].UserSeq;
            }
        });
        await WaitUntilAsync(async () => (await aliceHttp.GetPresenceAsync([bob.Id]))[0].Online, "bob online while polling");
        Assert.Empty((await aliceHttp.SendAsync(conversation, "during", "bob polls")).OfflineRecipients ?? []);

        await stop.CancelAsync();
        await polling;
        await WaitUntilAsync(async () => !(await aliceHttp.GetPresenceAsync([bob.Id]))[0].Online, "bob offline after he stopped polling");
        Assert.Equal([bob.Id], (await aliceHttp.SendAsync(conversation, "after", "bob stopped")).OfflineRecipients);
    }

    [Fact]
    public async Task SwitchingBetweenSocketAndPoll_MidConversation_LosesAndDuplicatesNothing()
    {
        const int Total = 60;
        var (alice, bob, conversation) = await PairAsync();
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < Total; i++) await aliceHttp.SendAsync(conversation, $"m{i}", $"message {i}");
        });
        var received = new List<Update>();

        // A socket first, ...
        await using (var socket = await Chat.ConnectAsync(Url, bob.Sessions[0]))
        {
            received.AddRange(await Chat.CollectAsync(socket, u => u.Count >= 10));
        }
        // ... then long-poll from the socket's cursor, ...
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        while (received.Count < 35)
        {
            var page = await bobHttp.PollAsync(received[^1].UserSeq, wait: TimeSpan.FromSeconds(5));
            received.AddRange(page.Updates);
        }
        // ... then a socket again, from the poll's cursor.
        await using (var socket = await Chat.ConnectAsync(Url, bob.Sessions[0], cursor: received[^1].UserSeq))
        {
            var rest = Total - received.Count;
            received.AddRange(await Chat.CollectAsync(socket, u => u.Count >= rest));
        }
        await sending;

        Chat.AssertGapless(received);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => $"m{i}"), received.Select(u => u.Message!.ClientMsgId));
    }

    [Fact]
    public async Task PresenceSubscriptionAndTyping_ReachAPollingDevice_AsEvents()
    {
        var (alice, bob, conversation) = await PairAsync();
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        Assert.False(Assert.Single(await bobHttp.SubscribePresenceAsync([alice.Id])).Online);

        await using var aliceSocket = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        var presence = await PollEventAsync(bobHttp, "presence");
        Assert.Equal((alice.Id, true), (presence.GetProperty("users")[0].GetProperty("userId").GetString(), presence.GetProperty("users")[0].GetProperty("online").GetBoolean()));

        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        await aliceHttp.SendTypingAsync(conversation);
        var typing = await PollEventAsync(bobHttp, "typing");
        Assert.Equal((conversation, alice.Id, true), (typing.GetProperty("conversationId").GetString(), typing.GetProperty("userId").GetString(), typing.GetProperty("typing").GetBoolean()));
    }

    [Theory]
    [InlineData("after=-1")]
    [InlineData("after=0&wait=-1")]
    [InlineData("after=0&wait=6")]
    [InlineData("after=0&limit=0")]
    [InlineData("after=99")]
    public async Task Poll_WithAnArgumentOutOfRange_IsRefusedWithOutOfRange(string query)
    {
        var (_, bob, _) = await PairAsync();
        using var http = new HttpClient { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", bob.Sessions[0].Token);
        using var response = await http.GetAsync($"/v1/poll?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("out_of_range", problem.RootElement.GetProperty("code").GetString());
    }

    private async Task<(ChatUser Alice, ChatUser Bob, string Conversation)> PairAsync()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        return (alice, bob, await Chat.OpenDirectAsync(Url, alice, bob));
    }

    private static async Task<JsonElement> PollEventAsync(MessengerHttpClient http, string type)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var result = await http.PollAsync(after: 0, wait: TimeSpan.FromSeconds(2));
            foreach (var e in result.Events)
            {
                if (e.GetProperty("type").GetString() == type) return e;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no {type} event within 15 s");
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 20 s: {what}");
            await Task.Delay(100);
        }
    }
}

/// <summary>The .NET SDK over long-poll: chosen by itself behind a proxy that does not pass WebSockets, with the socket's guarantees.</summary>
[Collection(LongPollServerCollection.Name)]
public sealed class LongPollClientTests(LongPollServerFixture fixture)
{
    private Uri Url => fixture.Url;

    [Fact]
    public async Task Client_BehindAProxyWithoutWebSockets_FallsBackToLongPoll_WithEveryGuaranteeOfTheSocket()
    {
        const int FromBob = 30;
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        await using var proxy = new NoWebSocketProxy(Url);

        await using var aliceDevice = await MessengerClient.ConnectAsync(proxy.Address, alice.Sessions[0].Token);
        Assert.Equal(ClientTransport.LongPoll, aliceDevice.ActiveTransport);
        Assert.True(proxy.RefusedUpgrades >= 1);
        Assert.Equal(alice.Id, aliceDevice.UserId);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        Assert.Equal(ClientTransport.WebSocket, bobDevice.ActiveTransport);

        // Presence and typing reach the polling device as they reach a socket.
        Assert.True(Assert.Single(await aliceDevice.SubscribePresenceAsync([bob.Id])).Online);
        await bobDevice.SendTypingAsync(conversation);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            var typing = await aliceDevice.TypingChanges.ReadAsync(cts.Token);
            Assert.Equal((conversation, bob.Id, true), (typing.ConversationId, typing.UserId, typing.IsTyping));
        }

        // Sends over REST are acked (and idempotent); every message arrives once, in order, on both sides.
        var first = await aliceDevice.SendAsync(conversation, "from behind the proxy", "alice-1");
        Assert.True((await aliceDevice.SendAsync(conversation, "from behind the proxy", "alice-1")).Duplicate);
        Assert.Empty(first.OfflineRecipients ?? []);
        var acks = new List<Ack> { first };
        for (var i = 0; i < FromBob; i++) acks.Add(await bobDevice.SendAsync(conversation, $"bob {i}", $"bob-{i}"));
        var views = await Task.WhenAll(
            Chat.CollectMessagesAsync(aliceDevice, conversation, FromBob + 1),
            Chat.CollectMessagesAsync(bobDevice, conversation, FromBob + 1));
        Chat.AssertOneOrderEverywhere(views, conversation, acks);
        Chat.AssertGapless(views[0]);

        // Bob sees the polling Alice as online, and his acks do not count her offline.
        Assert.True(Assert.Single(await bobDevice.QueryPresenceAsync([alice.Id])).Online);
        Assert.Empty(acks[^1].OfflineRecipients ?? []);
    }
}
