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
            await using (var server = await ServerProcess.StartAsync(data))
            {
                alice = await Chat.NewUserAsync(server.BaseAddress);
                var bob = await Chat.NewUserAsync(server.BaseAddress);
                conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
                await using var raw = await RawSocket.ConnectAsync(server.BaseAddress, alice.Sessions[0].Token);
                await using var bobDevice = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[0]);
                var bobClosed = new TaskCompletionSource<(WebSocketCloseStatus?, string?)>(TaskCreationOptions.RunContinuationsAsynchronously);
                bobDevice.Disconnected += (status, reason) => bobClosed.TrySetResult((status, reason));

                // Requests in flight, then the stop: each gets one reply, an ack or "unavailable" (send it again elsewhere).
                for (var i = 0; i < Sends; i++)
                {
                    await raw.SendTextAsync($$"""{"type":"send","id":"{{i}}","conversationId":"{{conversation}}","clientMsgId":"m{{i}}","text":"message {{i}}"}""");
                }
                var stopped = server.StopAsync(TimeSpan.FromSeconds(30));
                var (frames, status, reason) = await raw.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(30));

                Assert.Equal(MessengerClient.ServiceRestart, status);
                Assert.Equal("server_shutdown", reason);
                var replies = frames.Where(f => f.TryGetProperty("id", out _)).ToList();
                Assert.Equal(Enumerable.Range(0, Sends).Select(i => i.ToString()), replies.Select(f => f.GetProperty("id").GetString()!).OrderBy(int.Parse));
                foreach (var reply in replies)
                {
                    var type = reply.GetProperty("type").GetString();
                    if (type == "ack") acked.Add(reply.GetProperty("clientMsgId").GetString()!);
                    else Assert.Equal(("error", "unavailable"), (type, reply.GetProperty("code").GetString()));
                }
                Assert.NotEmpty(acked);

                var (bobStatus, bobReason) = await bobClosed.Task.WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(MessengerClient.ServiceRestart, bobStatus);
                Assert.Equal("server_shutdown", bobReason);
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
