using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>Group chats through the real gateway process: REST commands, real WebSockets, every device's view.</summary>
public abstract class GroupChatTests(ServerFixture fixture)
{
    [Collection(ServerCollection.Name)]
    public sealed class OnSqlite(SqliteServerFixture fixture) : GroupChatTests(fixture);

    [Collection(PostgresServerCollection.Name)]
    public sealed class OnPostgres(PostgresServerFixture fixture) : GroupChatTests(fixture);

    private Uri Url => fixture.Url;

    [Fact]
    public async Task ConcurrentSendsWhileMembersAreAddedAndRemoved_EveryDeviceHasOneHistory_CutExactlyAtItsMembership()
    {
        var users = new List<ChatUser>();
        for (var i = 0; i < 5; i++) users.Add(await Chat.NewUserAsync(Url, devices: 2));
        var (owner, leaving, joining) = (users[0], users[3], users[4]);
        var created = await GroupCommandAsync(owner, HttpMethod.Post, "v1/conversations/groups",
            new { title = "Crew", userIds = new[] { users[1].Id, users[2].Id, leaving.Id } }, HttpStatusCode.Created);
        var group = created["conversation"]!["conversationId"]!.GetValue<string>();
        var devices = new Dictionary<string, List<MessengerClient>>();
        foreach (var user in users)
        {
            devices[user.Id] = [];
            foreach (var session in user.Sessions) devices[user.Id].Add(await Chat.ConnectAsync(Url, session));
        }
        try
        {
            const int perDevice = 15;
            var acks = new List<Ack>();
            var refusals = new List<string>();
            var gate = new Lock();
            var joined = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var someSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async Task SendAllAsync(ChatUser user, int d, MessengerClient device)
            {
                if (user == joining) await joined.Task; // a member from the add event on
                for (var i = 0; i < perDevice; i++)
                {
                    try
                    {
                        var ack = await device.SendAsync(group, $"{user.Username} device {d} message {i}", $"{user.Username}-d{d}-m{i}");
                        lock (gate)
                        {
                            acks.Add(ack);
                            if (acks.Count >= 20) someSent.TrySetResult();
                        }
                    }
                    catch (MessengerClientException ex) when (user == leaving && ex.Code == "not_member")
                    {
                        lock (gate) refusals.Add(ex.Code);
                    }
                }
            }
            var sends = users.SelectMany(u => devices[u.Id].Select((device, d) => Task.Run(() => SendAllAsync(u, d, device)))).ToList();
            // Mid-stream: once some messages are in, remove one member and add another.
            await someSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var removal = await GroupCommandAsync(owner, HttpMethod.Delete, $"v1/conversations/{group}/members/{leaving.Id}", null, HttpStatusCode.OK);
            var removedAt = removal["events"]![0]!["seq"]!.GetValue<long>();
            var addition = await GroupCommandAsync(owner, HttpMethod.Post, $"v1/conversations/{group}/members", new { userIds = new[] { joining.Id } }, HttpStatusCode.OK);
            var addedAt = addition["events"]![0]!["seq"]!.GetValue<long>();
            joined.SetResult(addedAt);
            await Task.WhenAll(sends);

            var lastSeq = Math.Max(acks.Max(a => a.Seq), addedAt);
            Assert.True(addedAt > removedAt);
            Assert.Equal(4 * 2 * perDevice - refusals.Count + 2 * perDevice, acks.Count);
            Assert.All(acks.Where(a => users.Any(u => u == leaving && a.ClientMsgId.StartsWith(u.Username, StringComparison.Ordinal))),
                a => Assert.True(a.Seq < removedAt)); // nothing of the removed member after their removal
            Assert.All(acks.Where(a => a.ClientMsgId.StartsWith(joining.Username, StringComparison.Ordinal)), a => Assert.True(a.Seq > addedAt));

            // Every device of every member: the log from its join to its end (or its removal), gapless, one order.
            var history = await Chat.ReadHistoryCheckedAsync(Chat.Http(Url, owner.Sessions[0]), group);
            Assert.Equal(lastSeq, history[^1].Seq);
            var order = history.Select(m => (m.Seq, m.ClientMsgId)).ToList();
            foreach (var user in users)
            {
                var (from, to) = user == joining ? (addedAt, lastSeq) : user == leaving ? (1L, removedAt) : (1L, lastSeq);
                foreach (var device in devices[user.Id])
                {
                    var view = await Chat.CollectAsync(device, list => list.Any(u => u.ConversationId == group && u.Seq >= to));
                    Chat.AssertGapless(view); // each user's log holds only this group
                    var seen = view.Where(u => u.ConversationId == group && u.Kind == "message").Select(u => (u.Seq, u.Message!.ClientMsgId)).ToList();
                    Assert.Equal(order.Where(o => o.Seq >= from && o.Seq <= to), seen);
                }
            }
            // The removed member's devices stop at the removal: a barrier (every other device has the last seq)
            // has passed, and a sync from after it finds nothing more of the group.
            var removedSync = await Chat.Http(Url, leaving.Sessions[0]).SyncAsync(0, 500);
            Assert.Equal(removedAt, removedSync.Updates.Where(u => u.ConversationId == group).Max(u => u.Seq));
            // The joiner's history starts at their join point.
            var joinerHistory = await Chat.Http(Url, joining.Sessions[0]).GetHistoryAsync(group, limit: 500);
            Assert.Equal(addedAt, joinerHistory.Messages[0].Seq);
            Assert.False(joinerHistory.HasMore);
            await AssertRefusedAsync(leaving, HttpMethod.Get, $"v1/conversations/{group}/messages", null, HttpStatusCode.Forbidden, "not_member");
            // The removed member keeps the group in their list, marked left.
            var list = await GetJsonAsync(leaving, "v1/conversations");
            var entry = list["conversations"]!.AsArray().Single(c => c!["conversationId"]!.GetValue<string>() == group)!;
            Assert.True(entry["left"]!.GetValue<bool>());
            Assert.Equal("Crew", entry["title"]!.GetValue<string>());
            Assert.Null(entry["members"]);
        }
        finally
        {
            foreach (var device in devices.Values.SelectMany(d => d)) await device.DisposeAsync();
        }
    }

    [Fact]
    public async Task Receipts_ReachEveryDeviceOfTheSender_AsMembersReceiveAndRead()
    {
        var alice = await Chat.NewUserAsync(Url, devices: 2);
        var (bob, carol) = (await Chat.NewUserAsync(Url), await Chat.NewUserAsync(Url));
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        var group = (await aliceHttp.CreateGroupAsync("Ticks", [bob.Id, carol.Id])).Conversation.ConversationId;
        await using var alicePhone = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await using var aliceLaptop = await Chat.ConnectAsync(Url, alice.Sessions[1]);
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);

        var ack = await alicePhone.SendAsync(group, "who got this?", "t1");
        static Func<List<Update>, bool> Saw(long seq, int delivered, int read) =>
            list => list.Any(u => u.Kind == "receipts" && u.Receipts!.Any(r => r.Seq == seq && r.Delivered >= delivered && r.Read >= read && r.Of == 2));

        // Bob's device is connected: delivered to 1 of 2 (Carol has no device online).
        var phone = await Chat.CollectAsync(alicePhone, Saw(ack.Seq, 1, 0));
        await Chat.CollectAsync(aliceLaptop, Saw(ack.Seq, 1, 0));
        // Carol's device fetches her log, then she reads: delivered to 2, read by 1, on both of Alice's devices.
        using var carolHttp = Chat.Http(Url, carol.Sessions[0]);
        Assert.Contains((await carolHttp.SyncAsync(0)).Updates, u => u.Seq == ack.Seq);
        await carolHttp.MarkReadAsync(group, ack.Seq);
        phone.AddRange(await Chat.CollectAsync(alicePhone, Saw(ack.Seq, 2, 1)));
        await Chat.CollectAsync(aliceLaptop, Saw(ack.Seq, 2, 1));

        Chat.AssertGapless(phone, startAfter: phone[0].UserSeq - 1); // receipts are updates of Alice's log like any other
        var detail = await aliceHttp.GetMessageReceiptsAsync(group, ack.Seq);
        Assert.Equal(2, detail.Of);
        Assert.Equal(new[] { bob.Id, carol.Id }.Order(StringComparer.Ordinal), detail.DeliveredTo);
        Assert.Equal([carol.Id], detail.ReadBy);
    }

    [Fact]
    public async Task BadGroupCommands_AreRefusedWithTheirCodes_AndChangeNothing()
    {
        var (alice, bob, carol) = (await Chat.NewUserAsync(Url), await Chat.NewUserAsync(Url), await Chat.NewUserAsync(Url));
        var ghost = Messenger.Grains.UserIds.New();

        await AssertRefusedAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { title = " ", userIds = new[] { bob.Id } }, HttpStatusCode.BadRequest, "invalid_request");
        await AssertRefusedAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { title = new string('x', 129), userIds = new[] { bob.Id } }, HttpStatusCode.BadRequest, "invalid_request");
        await AssertRefusedAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { title = "T", userIds = new[] { bob.Id, bob.Id } }, HttpStatusCode.BadRequest, "invalid_request");
        await AssertRefusedAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { title = "T", userIds = new[] { ghost } }, HttpStatusCode.NotFound, "user_not_found");
        await AssertRefusedAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { userIds = new[] { bob.Id } }, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Empty((await GetJsonAsync(alice, "v1/conversations"))["conversations"]!.AsArray());

        var created = await GroupCommandAsync(alice, HttpMethod.Post, "v1/conversations/groups", new { title = "Team", userIds = new[] { bob.Id } }, HttpStatusCode.Created);
        var group = created["conversation"]!["conversationId"]!.GetValue<string>();
        await AssertRefusedAsync(bob, HttpMethod.Post, $"v1/conversations/{group}/members", new { userIds = new[] { carol.Id } }, HttpStatusCode.Forbidden, "not_admin");
        await AssertRefusedAsync(carol, HttpMethod.Post, $"v1/conversations/{group}/members", new { userIds = new[] { carol.Id } }, HttpStatusCode.Forbidden, "not_member");
        await AssertRefusedAsync(alice, HttpMethod.Post, $"v1/conversations/{group}/members", new { userIds = new[] { bob.Id } }, HttpStatusCode.Conflict, "already_member");
        await AssertRefusedAsync(alice, HttpMethod.Post, $"v1/conversations/{group}/members", new { userIds = new[] { ghost } }, HttpStatusCode.NotFound, "user_not_found");
        await AssertRefusedAsync(alice, HttpMethod.Delete, $"v1/conversations/{group}/members/{carol.Id}", null, HttpStatusCode.NotFound, "member_not_found");
        await AssertRefusedAsync(alice, HttpMethod.Put, $"v1/conversations/{group}/members/{alice.Id}/role", new { role = "member" }, HttpStatusCode.Conflict, "last_owner");
        await AssertRefusedAsync(alice, HttpMethod.Put, $"v1/conversations/{group}/members/{bob.Id}/role", new { role = "boss" }, HttpStatusCode.BadRequest, "invalid_request");
        await AssertRefusedAsync(bob, HttpMethod.Patch, $"v1/conversations/{group}", new { title = "Mine" }, HttpStatusCode.Forbidden, "not_admin");
        var direct = await Chat.OpenDirectAsync(Url, alice, bob);
        await AssertRefusedAsync(alice, HttpMethod.Post, $"v1/conversations/{direct}/leave", null, HttpStatusCode.BadRequest, "not_group");

        var info = await GetJsonAsync(alice, $"v1/conversations/{group}");
        Assert.True(JsonNode.DeepEquals(created["conversation"], info), $"the group changed: {info}");
        Assert.Equal(1, (await Chat.Http(Url, alice.Sessions[0]).GetHistoryAsync(group)).LastSeq);
    }

    [Fact]
    public async Task GroupCommandsOverTheSocket_AnswerWithGroupResult_AndTheEventsArriveAsUpdates()
    {
        var (alice, bob) = (await Chat.NewUserAsync(Url), await Chat.NewUserAsync(Url));
        await using var bobDevice = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);

        await socket.SendTextAsync("""{"type":"group_create","id":"c1","title":"Pair","userIds":["BOB"]}""".Replace("BOB", bob.Id));
        var result = await socket.ReceiveTypeAsync("group_result");

        Assert.Equal("c1", result.GetProperty("id").GetString());
        var group = result.GetProperty("conversation").GetProperty("conversationId").GetString()!;
        Assert.Equal(1, result.GetProperty("events")[0].GetProperty("seq").GetInt64());
        await socket.SendTextAsync($$"""{"type":"group_rename","id":"r1","conversationId":"{{group}}","title":"Duo"}""");
        var renamed = await socket.ReceiveTypeAsync("group_result");
        Assert.Equal("Duo", renamed.GetProperty("conversation").GetProperty("title").GetString());
        await socket.SendTextAsync($$"""{"type":"group_remove","id":"x1","conversationId":"{{group}}","userId":"{{alice.Id}}"}""");
        var error = await socket.ExpectErrorAsync("invalid_request");
        Assert.Equal("x1", error.GetProperty("id").GetString());

        var updates = await Chat.CollectAsync(bobDevice, list => list.Count(u => u.ConversationId == group) >= 2);
        Assert.Equal([1L, 2L], updates.Where(u => u.ConversationId == group).Select(u => u.Seq));
        Assert.All(updates.Where(u => u.ConversationId == group), u => Assert.Equal("", u.Message!.Text));
    }

    [Fact]
    public async Task MuteAndUnmute_OverRestAndTheSocket_ShowInTheList_AndBadOnesChangeNothing()
    {
        var (alice, bob) = (await Chat.NewUserAsync(Url), await Chat.NewUserAsync(Url));
        var direct = await Chat.OpenDirectAsync(Url, alice, bob);
        var until = DateTimeOffset.UtcNow.AddHours(1);

        var muted = await GroupCommandAsync(alice, HttpMethod.Put, $"v1/conversations/{direct}/mute", new { until }, HttpStatusCode.OK);
        Assert.Equal(until.ToUnixTimeMilliseconds(), muted["mutedUntil"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        var listed = (await GetJsonAsync(alice, "v1/conversations"))["conversations"]![0]!;
        Assert.Equal(muted["mutedUntil"]!.GetValue<DateTimeOffset>(), listed["mutedUntil"]!.GetValue<DateTimeOffset>());
        Assert.Null((await GetJsonAsync(bob, "v1/conversations"))["conversations"]![0]!["mutedUntil"]);
        await AssertRefusedAsync(alice, HttpMethod.Put, $"v1/conversations/{direct}/mute", new { until = DateTimeOffset.UtcNow.AddDays(-1) }, HttpStatusCode.BadRequest, "out_of_range");
        await AssertRefusedAsync(alice, HttpMethod.Put, $"v1/conversations/{ConversationIdsForTests.AnyGroup}/mute", null, HttpStatusCode.Forbidden, "not_member");
        var unmuted = await GroupCommandAsync(alice, HttpMethod.Delete, $"v1/conversations/{direct}/mute", null, HttpStatusCode.OK);
        Assert.Null(unmuted["mutedUntil"]);

        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);
        await socket.SendTextAsync($$"""{"type":"mute","id":"m1","conversationId":"{{direct}}","muted":true}""");
        var result = await socket.ReceiveTypeAsync("mute_result");
        Assert.Equal(("m1", 253402300799999L), (result.GetProperty("id").GetString(), result.GetProperty("mutedUntil").GetDateTimeOffset().ToUnixTimeMilliseconds()));
        // The other device of the user hears of it through the update log: kind mute.
        var log = await Chat.Http(Url, alice.Sessions[0]).SyncAsync(0);
        Assert.Equal(3, log.Updates.Count(u => u.Kind == "mute"));
    }

    private static class ConversationIdsForTests
    {
        public static readonly string AnyGroup = Messenger.Grains.ConversationIds.NewGroup();
    }

    private async Task<JsonNode> GroupCommandAsync(ChatUser user, HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var response = await SendAsync(user, method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task AssertRefusedAsync(ChatUser user, HttpMethod method, string path, object? body, HttpStatusCode status, string code)
    {
        using var response = await SendAsync(user, method, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{method} {path}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal(code, JsonNode.Parse(text)!["code"]!.GetValue<string>());
    }

    private async Task<JsonNode> GetJsonAsync(ChatUser user, string path) => await GroupCommandAsync(user, HttpMethod.Get, path, null, HttpStatusCode.OK);

    private async Task<HttpResponseMessage> SendAsync(ChatUser user, HttpMethod method, string path, object? body)
    {
        using var http = new HttpClient { BaseAddress = Url };
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Sessions[0].Token);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await http.SendAsync(request);
    }
}
