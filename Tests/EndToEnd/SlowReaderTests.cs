using System.Net.WebSockets;
using System.Text.Json;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// A client's own replies never overflow its socket's outbound queue: a request counts against the
/// in-flight limit until its reply is written, so the server stops reading a client that does not
/// read its replies instead of queueing them until it counts as a slow consumer.
/// </summary>
public sealed class SlowReaderTests
{
    private const int InFlight = 8;
    private const int Queue = 16;

    [Fact]
    public async Task PipelinedLargeHistoryRequests_ReadOnlyAfterSendingThemAll_AreAllAnswered_WithoutACutOff()
    {
        await using var server = await ServerProcess.StartAsync(null,
            $"--Gateway:MaxInFlightPerConnection={InFlight}", $"--Gateway:OutboundQueueFrames={Queue}",
            // Writing one large frame to a client that only starts reading later must not count as stuck.
            "--Gateway:SendTimeout=00:01:00", "--Messenger:MaxTextLength=20000");
        var alice = await Chat.NewUserAsync(server.BaseAddress);
        var bob = await Chat.NewUserAsync(server.BaseAddress);
        var conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
        using (var http = Chat.Http(server.BaseAddress, bob.Sessions[0]))
        {
            for (var i = 0; i < 20; i++) await http.SendAsync(conversation, $"k{i}", new string((char)('a' + i), 16_000));
        }
        await using var socket = await RawSocket.ConnectAsync(server.BaseAddress, alice.Sessions[0].Token);

        // Far more than the in-flight limit and the queue together: about 40 MB of replies, far more
        // than the connection's buffers hold, and none read until every request is sent.
        const int requests = 16 * (InFlight + Queue) / 3;
        for (var i = 0; i < requests; i++)
        {
            await socket.SendTextAsync($$"""{"type":"history","id":"h{{i}}","conversationId":"{{conversation}}","limit":20}""");
        }
        var answered = new HashSet<string>();
        for (var i = 0; i < requests; i++)
        {
            var reply = await ReceiveAsync(socket);
            Assert.Equal("history_result", reply.GetProperty("type").GetString());
            Assert.Equal(20, reply.GetProperty("messages").GetArrayLength());
            Assert.True(answered.Add(reply.GetProperty("id").GetString()!));
        }
        Assert.Equal(requests, answered.Count);
        await socket.AssertUsableAsync();
    }

    private static async Task<JsonElement> ReceiveAsync(RawSocket socket)
    {
        try
        {
            return await socket.ReceiveAsync(TimeSpan.FromSeconds(30));
        }
        catch (WebSocketException ex)
        {
            Assert.Fail($"the server closed the socket ({socket.Socket.CloseStatus} {socket.Socket.CloseStatusDescription}): {ex.Message}");
            throw;
        }
    }
}
