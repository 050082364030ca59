using System.Buffers;
using System.Net.WebSockets;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Sessions;
using Messenger.Grains;

namespace Messenger.Gateway.Transports;

/// <summary>
/// Moves frames between a WebSocket and a <see cref="ClientSession"/>: text frames in, queued
/// frames out. No business rules here.
/// </summary>
public static class WebSocketTransport
{
    public static async Task RunAsync(WebSocket socket, ClientSession session, GatewayOptions options)
    {
        var writer = WriteLoopAsync(socket, session);
        try
        {
            await ReadLoopAsync(socket, session, options.MaxFrameBytes);
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        session.Complete();
        await writer;
        if (session.IsSlowConsumer)
        {
            socket.Abort();
            return;
        }
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { socket.Abort(); }
        }
    }

    private static async Task ReadLoopAsync(WebSocket socket, ClientSession session, int maxFrameBytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(maxFrameBytes + 1);
        try
        {
            while (!session.Closed.IsCancellationRequested)
            {
                var length = 0;
                var tooLarge = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    // Past the limit, keep reading into the same space only to find the frame's end:
                    // the oversized frame is dropped and the connection stays usable.
                    var offset = tooLarge ? 0 : length;
                    result = await socket.ReceiveAsync(buffer.AsMemory(offset, buffer.Length - offset), session.Closed);
                    if (result.MessageType == WebSocketMessageType.Close) return;
                    if (!tooLarge)
                    {
                        length += result.Count;
                        if (length > maxFrameBytes) tooLarge = true;
                    }
                }
                while (!result.EndOfMessage);

                if (tooLarge)
                {
                    session.EnqueueError(null, ErrorCode.TooLarge, $"frames are limited to {maxFrameBytes} bytes.");
                }
                else if (result.MessageType != WebSocketMessageType.Text)
                {
                    session.EnqueueError(null, ErrorCode.InvalidRequest, "frames must be UTF-8 JSON text messages.");
                }
                else
                {
                    await session.HandleFrameAsync(buffer.AsMemory(0, length));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task WriteLoopAsync(WebSocket socket, ClientSession session)
    {
        try
        {
            await foreach (var frame in session.Outbound.ReadAllAsync(session.Closed))
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, session.Closed);
            }
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
    }
}
