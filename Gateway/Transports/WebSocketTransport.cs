using System.Buffers;
using System.Net.WebSockets;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Sessions;
using Messenger.Grains;

namespace Messenger.Gateway.Transports;

/// <summary>
/// Moves frames between a WebSocket and a <see cref="ClientSession"/>: text frames in, queued
/// frames out. No business rules here. Reading is a loop for the socket's life; writing runs only
/// when something is queued (<see cref="SocketWriter"/>), so an idle socket holds one suspended
/// read and nothing else of ours.
/// </summary>
public static class WebSocketTransport
{
    /// <summary>
    /// Reads frames until the socket closes or breaks, or the writer closes it. Each message starts with a
    /// zero-byte receive, which waits for the frame to arrive without holding a buffer, so an idle socket
    /// holds none; only then a small pooled buffer is rented, grown only for a frame that needs more (up to
    /// the limit), and returned after the frame.
    /// </summary>
    public static async Task RunAsync(WebSocket socket, ClientSession session, GatewayOptions options)
    {
        var writer = new SocketWriter(socket, session, options.SendTimeout);
        session.StartWriting(writer.Wake); // writes what is queued already (hello)
        try
        {
            const int SmallBuffer = 4096;
            var maxFrameBytes = options.MaxFrameBytes;
            while (true)
            {
                // Not cancelled by the session: cancelling a receive aborts the socket, and a slow consumer
                // should still get its close frame. The loop ends when the socket closes.
                var first = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (first.MessageType == WebSocketMessageType.Close) break;
                if (first.EndOfMessage)
                {
                    // An empty message: the zero-byte receive consumed all of it.
                    await HandleAsync(session, first.MessageType, ReadOnlyMemory<byte>.Empty, tooLarge: false, maxFrameBytes);
                    continue;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(SmallBuffer);
                try
                {
                    var length = 0;
                    var tooLarge = false;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (!tooLarge && length == buffer.Length)
                        {
                            if (length > maxFrameBytes)
                            {
                                tooLarge = true;
                            }
                            else
                            {
                                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, maxFrameBytes + 1));
                                buffer.AsSpan(0, length).CopyTo(bigger);
                                ArrayPool<byte>.Shared.Return(buffer);
                                buffer = bigger;
                            }
                        }
                        // Past the limit, keep reading into the same space only to find the frame's end:
                        // the oversized frame is dropped and the connection stays usable.
                        var offset = tooLarge ? 0 : length;
                        result = await socket.ReceiveAsync(buffer.AsMemory(offset), CancellationToken.None);
                        if (result.MessageType == WebSocketMessageType.Close) break;
                        if (!tooLarge)
                        {
                            length += result.Count;
                            if (length > maxFrameBytes) tooLarge = true;
                        }
                    }
                    while (!result.EndOfMessage);
                    if (result.MessageType == WebSocketMessageType.Close) break;
                    await HandleAsync(session, first.MessageType, buffer.AsMemory(0, length), tooLarge, maxFrameBytes);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The connection broke or the session closed: either way reading is over.
        }
        finally
        {
            // The client closed, the connection broke, or the writer closed our side first (and the client answered,
            // or was cut off): stop writing, then close our side if nobody did. (Also after an unexpected error, which
            // then reaches the host.)
            session.Complete();
            await writer.StoppedAsync();
            writer.Dispose();
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, null, TimeSpan.FromSeconds(2));
            }
        }
        writer.ThrowIfFailed();
    }

    private static Task HandleAsync(ClientSession session, WebSocketMessageType type, ReadOnlyMemory<byte> frame, bool tooLarge, int maxFrameBytes)
    {
        if (tooLarge) return session.RefuseFrameAsync(ErrorCode.TooLarge, $"frames are limited to {maxFrameBytes} bytes.");
        if (type != WebSocketMessageType.Text) return session.RefuseFrameAsync(ErrorCode.InvalidRequest, "frames must be UTF-8 JSON text messages.");
        return session.HandleFrameAsync(frame);
    }

    /// <summary>Close status 4001 (private use): the device was logged out or its account deleted; do not reconnect with this token.</summary>
    public const WebSocketCloseStatus LoggedOut = (WebSocketCloseStatus)4001;

    /// <summary>Close status 1012 (RFC 6455 registry: "Service Restart"): reconnect at once, elsewhere if possible.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>Sends our Close frame; a socket that cannot take it within <paramref name="timeout"/> is aborted.</summary>
    internal static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string? reason, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try { await socket.CloseOutputAsync(status, reason, cancel.Token); }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { socket.Abort(); }
    }
}
