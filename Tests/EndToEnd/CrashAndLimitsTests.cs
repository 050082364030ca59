using System.Net.Http.Json;
using System.Net.WebSockets;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>Tests that need a gateway process of their own: crashes, restarts, tight limits.</summary>
public sealed class CrashAndLimitsTests
{
    [Theory]
    [InlineData(GatewayStorage.Sqlite)]
    [InlineData(GatewayStorage.Postgres)]
    public async Task KillDashNine_AfterALogout_TheTokenStaysRefused_AndTheOtherDevicesAreKept(string backend)
    {
        await using var storage = await GatewayStorage.CreateAsync(backend);
        ChatUser user;
        await using (var server = await storage.StartGatewayAsync())
        {
            user = await Chat.NewUserAsync(server.BaseAddress, devices: 3);
            using var http = Chat.Http(server.BaseAddress, user.Sessions[0]);
            await http.LogOutDeviceAsync(user.Sessions[1].DeviceId);
            await server.KillAsync();
        }

        await using var restarted = await storage.StartGatewayAsync();
        await TokenChecks.AssertRefusedEverywhereAsync(restarted.BaseAddress, user.Sessions[1].Token);
        using var kept = Chat.Http(restarted.BaseAddress, user.Sessions[2]);
        Assert.Equal(user.Id, (await kept.GetMeAsync()).UserId);
        Assert.Equal([user.Sessions[0].DeviceId, user.Sessions[2].DeviceId], (await kept.ListDevicesAsync()).Select(d => d.DeviceId).Order());
    }

    [Theory]
    [InlineData(GatewayStorage.Sqlite)]
    [InlineData(GatewayStorage.Postgres)]
    public async Task KillDashNine_AfterBurst_EveryAckedMessageSurvives_InOrder_ExactlyOnce(string backend)
    {
        await using var storage = await GatewayStorage.CreateAsync(backend);
        ChatUser alice, bob;
        string conversation;
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<string, Ack>();
        await using (var server = await storage.StartGatewayAsync())
        {
            alice = await Chat.NewUserAsync(server.BaseAddress);
            bob = await Chat.NewUserAsync(server.BaseAddress);
            conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
            var device = await Chat.ConnectAsync(server.BaseAddress, alice.Sessions[0]);
            var enoughAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Far more than will be acked before the kill: the process dies with sends in flight.
            var sends = Enumerable.Range(0, 3000).Select(async i =>
            {
                var ack = await device.SendAsync(conversation, $"burst {i}", $"burst-{i}");
                acked[ack.ClientMsgId] = ack;
                if (acked.Count >= 500) enoughAcked.TrySetResult();
            }).ToList();
            await enoughAcked.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await server.KillAsync();
            await device.DisposeAsync();
            await Task.WhenAll(sends).ContinueWith(_ => { });
        }
        var ackedNow = acked.Values.ToList();
        Assert.True(ackedNow.Count >= 500);

        await using var restarted = await storage.StartGatewayAsync();
        using var http = Chat.Http(restarted.BaseAddress, bob.Sessions[0]);
        var history = await Chat.ReadHistoryCheckedAsync(http, conversation);
        var bySeq = history.ToDictionary(m => m.Seq);
        foreach (var ack in ackedNow)
        {
            Assert.True(bySeq.TryGetValue(ack.Seq, out var stored), $"acked seq {ack.Seq} is missing after the restart");
            Assert.Equal(ack.ClientMsgId, stored.ClientMsgId);
        }
        // Sends are processed in order, so what survived is a prefix of the burst.
        Assert.Equal(Enumerable.Range(0, history.Count).Select(i => $"burst-{i}"), history.Select(m => m.ClientMsgId));

        // The recipient's log has every surviving message too, even those whose fan-out the kill interrupted.
        await using var bobDevice = await Chat.ConnectAsync(restarted.BaseAddress, bob.Sessions[0]);
        var updates = await Chat.CollectMessagesAsync(bobDevice, conversation, history.Count);
        Chat.AssertGapless(updates);
        Assert.Equal(history.Select(m => m.Seq), updates.Select(u => u.Seq));

        // And a retry of an acked send after the restart is still recognised.
        using var aliceHttp = Chat.Http(restarted.BaseAddress, alice.Sessions[0]);
        var first = ackedNow.MinBy(a => a.Seq)!;
        var retry = await aliceHttp.SendAsync(conversation, first.ClientMsgId, "burst 0");
        Assert.True(retry.Duplicate);
        Assert.Equal((first.Seq, first.UserSeq), (retry.Seq, retry.UserSeq));
    }

    [Theory]
    [InlineData(GatewayStorage.Sqlite)]
    [InlineData(GatewayStorage.Postgres)]
    public async Task KillDashNine_MidGroupFanOut_EveryMemberEndsWithEveryAckedMessage_ExactlyOnce(string backend)
    {
        await using var storage = await GatewayStorage.CreateAsync(backend);
        var members = new List<ChatUser>();
        string group;
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<string, Ack>();
        await using (var server = await storage.StartGatewayAsync())
        {
            for (var i = 0; i < 25; i++) members.Add(await Chat.NewUserAsync(server.BaseAddress));
            using (var http = new HttpClient { BaseAddress = server.BaseAddress })
            {
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", members[0].Sessions[0].Token);
                using var created = await http.PostAsJsonAsync("v1/conversations/groups", new { title = "Crash", userIds = members.Skip(1).Select(m => m.Id) });
                created.EnsureSuccessStatusCode();
                group = System.Text.Json.Nodes.JsonNode.Parse(await created.Content.ReadAsStringAsync())!["conversation"]!["conversationId"]!.GetValue<string>();
            }
            var device = await Chat.ConnectAsync(server.BaseAddress, members[0].Sessions[0]);
            var enoughAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Each message fans out to 24 others: the kill comes with deliveries of hundreds of messages still owed.
            var sends = Enumerable.Range(0, 2000).Select(async i =>
            {
                var ack = await device.SendAsync(group, $"group burst {i}", $"gburst-{i}");
                acked[ack.ClientMsgId] = ack;
                if (acked.Count >= 300) enoughAcked.TrySetResult();
            }).ToList();
            await enoughAcked.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await server.KillAsync();
            await device.DisposeAsync();
            await Task.WhenAll(sends).ContinueWith(_ => { });
        }
        var ackedNow = acked.Values.ToList();

        await using var restarted = await storage.StartGatewayAsync();
        var history = await Chat.ReadHistoryCheckedAsync(Chat.Http(restarted.BaseAddress, members[1].Sessions[0]), group);
        var bySeq = history.ToDictionary(m => m.Seq);
        Assert.All(ackedNow, ack => Assert.Equal(ack.ClientMsgId, bySeq[ack.Seq].ClientMsgId));
        foreach (var member in members)
        {
            // Each member's log holds the whole surviving log, once, in order: fan-out resumed where the kill stopped it.
            await using var memberDevice = await Chat.ConnectAsync(restarted.BaseAddress, member.Sessions[0]);
            var updates = await Chat.CollectMessagesAsync(memberDevice, group, history.Count, TimeSpan.FromSeconds(60));
            Chat.AssertGapless(updates);
            Assert.Equal(history.Select(m => m.Seq), updates.Where(u => u.Kind == "message").Select(u => u.Seq));
        }
    }

    [Fact]
    public async Task ExpiredToken_IsRefusedWithItsOwnCode()
    {
        await using var server = await ServerProcess.StartAsync(null, "--Auth:TokenLifetime=00:00:01");
        var alice = await Chat.NewUserAsync(server.BaseAddress);
        using var http = Chat.Http(server.BaseAddress, alice.Sessions[0]);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the lifetime itself is what is under test
        var expired = await Assert.ThrowsAsync<MessengerClientException>(() => http.GetMeAsync());
        Assert.Equal(("token_expired", 401), (expired.Code, expired.HttpStatus));
    }

    [Fact]
    public async Task StuckPeer_WhoseSendCannotComplete_IsAbortedAfterTheSendTimeout_AndResyncsEverythingAfterwards()
    {
        // A queue too large to overflow: what ends the stuck socket is a write that waits past Gateway:SendTimeout.
        // ~12 MB pushed at a 4 KiB receive window, more than the kernel's send buffer and Kestrel's hold; the peer
        // stays stuck for longer than the send timeout (the time is what is under test).
        await StalledDevice_IsCutOff_AndResyncsEverythingAsync(["--Gateway:OutboundQueueFrames=100000", "--Gateway:SendTimeout=00:00:02"],
            count: 4000, receiveBufferBytes: 4096, stuckFor: TimeSpan.FromSeconds(5), "the stuck socket was not aborted");
    }

    [Fact]
    public async Task SlowConsumer_IsCutOff_AndResyncsEverythingAfterwards()
    {
        // The stalled socket never reads while ~9 MB are pushed at it: the server must close it rather than
        // queue without bound.
        await StalledDevice_IsCutOff_AndResyncsEverythingAsync(
            ["--Gateway:OutboundQueueFrames=64", "--Gateway:MaxInFlightPerConnection=16", "--Gateway:SendTimeout=00:00:02"],
            count: 3000, receiveBufferBytes: 0, stuckFor: TimeSpan.Zero, "the slow socket was not closed");
    }

    /// <summary>
    /// Bob's device connects and never reads while Alice sends <paramref name="count"/> messages of 3,000
    /// characters; after <paramref name="stuckFor"/>, draining what reached the device must end in the server's
    /// close before all of them, and a new socket of Bob's then syncs every one, gapless.
    /// </summary>
    private static async Task StalledDevice_IsCutOff_AndResyncsEverythingAsync(string[] serverArgs, int count, int receiveBufferBytes,
        TimeSpan stuckFor, string notCutOff)
    {
        await using var server = await ServerProcess.StartAsync(null, serverArgs);
        var alice = await Chat.NewUserAsync(server.BaseAddress);
        var bob = await Chat.NewUserAsync(server.BaseAddress);
        var conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
        await using var stalled = await RawSocket.ConnectAsync(server.BaseAddress, bob.Sessions[0].Token, receiveBufferBytes);
        await using var sender = await Chat.ConnectAsync(server.BaseAddress, alice.Sessions[0]);
        var text = new string('x', 3000);
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => sender.SendAsync(conversation, text, $"k{i}")));
        if (stuckFor > TimeSpan.Zero) await Task.Delay(stuckFor);

        // Draining what reached the socket ends in the server's close.
        var received = 0;
        var closed = false;
        try
        {
            while (received < count)
            {
                var frame = await stalled.ReceiveAsync(TimeSpan.FromSeconds(10));
                if (frame.GetProperty("type").GetString() == "updates") received += frame.GetProperty("updates").GetArrayLength();
            }
        }
        catch (WebSocketException) { closed = true; }
        Assert.True(closed, $"{notCutOff}; it received {received} of {count} updates");
        Assert.True(received < count);

        await using var bobDevice = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[0]);
        var updates = await Chat.CollectMessagesAsync(bobDevice, conversation, count);
        Chat.AssertGapless(updates);
        Assert.Equal(count, updates.Count);
    }
}
