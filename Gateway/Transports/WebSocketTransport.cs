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
        var reader = ReadLoopAsync(socket, session, options.MaxFrameBytes);
        var writer = WriteLoopAsync(socket, session, options.SendTimeout);
        if (await Task.WhenAny(reader, writer) == reader)
        {
            // The client closed (or the connection broke): stop writing, then close our side.
            session.Complete();
            await writer;
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { socket.Abort(); }
            }
            return;
        }
        // The writer stopped first: a slow consumer (it sent a close frame if it could) or a stuck socket.
        session.Complete();
        if (await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(2))) != reader) socket.Abort();
        await reader;
    }

    /// <summary>
    /// Reads frames until the socket closes or breaks. Each message starts with a zero-byte receive, which
    /// waits for the frame to arrive without holding a buffer, so an idle socket holds none; only then a
    /// small pooled buffer is rented, grown only for a frame that needs more (up to the limit), and returned
    /// after the frame. One method, so an idle socket's reading is one state machine, not two.
    /// </summary>
    private static async Task ReadLoopAsync(WebSocket socket, ClientSession session, int maxFrameBytes)
    {
        try
        {
            const int SmallBuffer = 4096;
            while (true)
            {
                // Not cancelled by the session: cancelling a receive aborts the socket, and a slow consumer
                // should still get its close frame. The loop ends when the socket closes.
                var first = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (first.MessageType == WebSocketMessageType.Close) return;
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
                        if (result.MessageType == WebSocketMessageType.Close) return;
                        if (!tooLarge)
                        {
                            length += result.Count;
                            if (length > maxFrameBytes) tooLarge = true;
                        }
                    }
                    while (!result.EndOfMessage);
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
    }

    private static Task HandleAsync(ClientSession session, WebSocketMessageType type, ReadOnlyMemory<byte> frame, bool tooLarge, int maxFrameBytes)
    {
        if (tooLarge) return session.RefuseFrameAsync(ErrorCode.TooLarge, $"frames are limited to {maxFrameBytes} bytes.");
        if (type != WebSocketMessageType.Text) return session.RefuseFrameAsync(ErrorCode.InvalidRequest, "frames must be UTF-8 JSON text messages.");
        return session.HandleFrameAsync(frame);
    }

    private static async Task WriteLoopAsync(WebSocket socket, ClientSession session, TimeSpan sendTimeout)
    {
        try
        {
            while (await session.WaitToReadAsync(session.Closed))
            {
                while (!session.IsSlowConsumer && session.TryRead(out var frame))
                {
                    var send = socket.SendAsync(frame.Bytes.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    if (send.IsCompleted) send.GetAwaiter().GetResult(); // (throws if it failed)
                    else await WithTimeoutAsync(socket, send, sendTimeout);
                    session.Written(frame);
                }
            }
        }
        catch (OperationCanceledException) when (session.Closed.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            socket.Abort(); // a frame could not be written in time (the peer is stuck), or the socket broke
            return;
        }
        if (session.IsSlowConsumer) await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, ErrorCode.SlowConsumer.ToWire());
        else if (session.IsLoggedOut) await CloseAsync(socket, LoggedOut, ErrorCode.LoggedOut.ToWire());
        else if (session.IsShuttingDown) await CloseAsync(socket, ServiceRestart, ErrorCode.ServerShutdown.ToWire());
    }

    /// <summary>
    /// Waits for a send that did not complete at once (the peer is not reading and the buffers are full); past
    /// <paramref name="timeout"/> the socket is aborted, which fails the send. Most sends complete at once, as
    /// Kestrel buffers the frame, so only these pay for a timer: an idle connection holds none.
    /// </summary>
    private static async ValueTask WithTimeoutAsync(WebSocket socket, ValueTask send, TimeSpan timeout)
    {
        using var abort = new Timer(static state => ((WebSocket)state!).Abort(), socket, timeout, Timeout.InfiniteTimeSpan);
        await send;
    }

    /// <summary>Close status 4001 (private use): the device was logged out or its account deleted; do not reconnect with this token.</summary>
    public const WebSocketCloseStatus LoggedOut = (WebSocketCloseStatus)4001;

    /// <summary>Close status 1012 (RFC 6455 registry: "Service Restart"): reconnect at once, elsewhere if possible.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await socket.CloseOutputAsync(status, reason, timeout.Token); }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { socket.Abort(); }
    }
}
