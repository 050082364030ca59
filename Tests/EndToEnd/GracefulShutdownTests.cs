using System.Net.WebSockets;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// A server asked to stop (SIGTERM) answers what it was asked, closes every socket with 1012
/// <c>server_shutdown</c> so clients reconnect at once, exits by itself, and has lost nothing it acked.
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int Sends = 40;

    [Fact]
    public async Task Sigterm_AnswersEveryRequest_ClosesSocketsWith1012_ExitsCleanly_AndKeepsEveryAck()
    {
        var data = ServerProcess.NewDataDirectory();
        try
        {
            string conversation;
            ChatUser alice;
            var acked = new List<string>();
            // Each commit takes 300 ms more, as on a slow disk, so that sends are still in progress when the stop comes.
            await using (var server = await ServerProcess.StartAsync(data, "--Storage:SimulatedFlushLatency=00:00:00.300"))
            {
                alice = await Chat.NewUserAsync(server.BaseAddress);
                var bob = await Chat.NewUserAsync(server.BaseAddress);
                conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
                await using var raw = await RawSocket.ConnectAsync(server.BaseAddress, alice.Sessions[0].Token);
                await using var bobDevice = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[0]);
                var bobClosed = new TaskCompletionSource<(WebSocketCloseStatus?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
                bobDevice.Disconnected += (status, reason) => bobClosed.TrySetResult((status, reason));

                // A device of a third user long-polls, with nothing to wait for but the default 25 s hold.
                var carol = await Chat.NewUserAsync(server.BaseAddress);
                using var carolHttp = Chat.Http(server.BaseAddress, carol.Sessions[0]);
                var carolPolls = carolHttp.PollAsync(after: 0);

                // Sends in flight: the first commit is acked, the next batch is being committed when the stop comes.
                for (var i = 0; i < Sends; i++)
                {
                    await raw.SendTextAsync($$"""{"type":"send","id":"{{i}}","conversationId":"{{conversation}}","clientMsgId":"m{{i}}","text":"message {{i}}"}""");
                }
                var first = await raw.ReceiveTypeAsync("ack");
                acked.Add(first.GetProperty("clientMsgId").GetString()!);
                var stopped = server.StopAsync(TimeSpan.FromSeconds(30));
                var (frames, status, reason) = await raw.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(30));

                Assert.Equal(MessengerClient.ServiceRestart, status);
                Assert.Equal("server_shutdown", reason);
                // Requests in progress were answered before the close: acks came after the stop was asked for.
                // A request the server had not started gets "unavailable" or, if it was not even read, nothing:
                // the client sends it again after reconnecting.
                var replies = frames.Where(f => f.TryGetProperty("id", out var id) && id.ValueKind == System.Text.Json.JsonValueKind.String).ToList();
                Assert.Equal(replies.Count, replies.Select(f => f.GetProperty("id").GetString()).Distinct().Count());
                foreach (var reply in replies)
                {
                    var type = reply.GetProperty("type").GetString();
                    if (type == "ack") acked.Add(reply.GetProperty("clientMsgId").GetString()!);
                    else Assert.Equal(("error", "unavailable"), (type, reply.GetProperty("code").GetString()));
                }
                Assert.Contains(replies, r => r.GetProperty("type").GetString() == "ack");

                var (bobStatus, bobReason) = await bobClosed.Task.WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(MessengerClient.ServiceRestart, bobStatus);
                Assert.Equal("server_shutdown", bobReason);
                // The long-poll ended with the shutdown, long before its hold (answered, or refused if it came too late).
                try
                {
                    Assert.Empty((await carolPolls.WaitAsync(TimeSpan.FromSeconds(15))).Updates);
                }
                catch (MessengerClientException ex) when (ex.Code == "unavailable")
                {
                }
                Assert.Equal(0, await stopped);
            }

            // Started again on the same data: every acked message is there, once, in a gapless history.
            await using var again = await ServerProcess.StartAsync(data);
            using var http = Chat.Http(again.BaseAddress, alice.Sessions[0]);
            var history = await Chat.ReadHistoryCheckedAsync(http, conversation);
            Assert.Subset(history.Select(m => m.ClientMsgId).ToHashSet(), acked.ToHashSet());
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }
}
