using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Messenger.Bench.Driver;

/// <summary>Receives every frame a <see cref="BenchSocket"/> reads after its hello, on the socket's read loop.</summary>
public interface IFrameHandler
{
    /// <param name="socket">The socket that read the frame.</param>
    /// <param name="frame">The UTF-8 JSON text of one frame; valid only during the call.</param>
    /// <param name="receivedUs">When the read completed (<see cref="Clock.NowUs"/>).</param>
    void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs);
}

/// <summary>What happened to a group of sockets that the bench did not ask for.</summary>
public sealed class SocketEvents
{
    private readonly ConcurrentQueue<string> _reasons = new();
    private int _unexpectedCloses;

    /// <summary>Sockets closed or failed while the bench still used them.</summary>
    public int UnexpectedCloses => Volatile.Read(ref _unexpectedCloses);

    /// <summary>The first few reasons, for the report.</summary>
    public IReadOnlyCollection<string> Reasons => _reasons;

    internal void Closed(int index, string reason)
    {
        Interlocked.Increment(ref _unexpectedCloses);
        if (_reasons.Count < 10) _reasons.Enqueue($"socket {index}: {reason}");
    }
}

/// <summary>
/// A lean WebSocket device for load: one read loop that hands each frame to an
/// <see cref="IFrameHandler"/> as a span (no per-frame allocation), and sends of pre-built UTF-8
/// frames serialised by a lock so several writers may share the socket.
/// </summary>
public sealed class BenchSocket : IAsyncDisposable
{
    // One handler for every socket: a ClientWebSocket otherwise builds its own HTTP stack per connect.
    private static readonly HttpMessageInvoker Invoker = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionLifetime = TimeSpan.Zero,
    });

    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<long> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SocketEvents _events;
    private byte[] _buffer = new byte[8 * 1024];
    private Task _reader = Task.CompletedTask;
    private volatile bool _closing;

    private BenchSocket(int index, SocketEvents events, IFrameHandler? handler)
    {
        Index = index;
        _events = events;
        Handler = handler;
    }

    /// <summary>The bench's number for this device (its user's index).</summary>
    public int Index { get; }

    /// <summary>Where frames after the hello go; null drops them.</summary>
    public IFrameHandler? Handler { get; set; }

    /// <summary>The userSeq the server reported in its hello.</summary>
    public long HelloUserSeq => _hello.Task.IsCompletedSuccessfully ? _hello.Task.Result : 0;

    public bool IsOpen => _socket.State == WebSocketState.Open;

    /// <summary>Connects, starts reading, and waits for the server's hello frame.</summary>
    public static async Task<BenchSocket> ConnectAsync(Uri uri, int index, SocketEvents events, IFrameHandler? handler, CancellationToken ct = default)
    {
        var socket = new BenchSocket(index, events, handler);
        socket._socket.Options.KeepAliveInterval = TimeSpan.Zero; // the server pings; answering is automatic
        try
        {
            await socket._socket.ConnectAsync(uri, Invoker, ct);
            socket._reader = socket.ReadLoopAsync();
            await socket._hello.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        catch
        {
            socket._closing = true;
            socket._socket.Abort();
            socket._socket.Dispose();
            throw;
        }
        return socket;
    }

    /// <summary>Writes one text frame; concurrent callers take turns.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> frame)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                    result = await _socket.ReceiveAsync(_buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (!_closing) _events.Closed(Index, $"closed by server: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
                        _hello.TrySetException(new WebSocketException("closed before hello"));
                        return;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                Dispatch(length, Clock.NowUs());
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            if (!_closing) _events.Closed(Index, $"{ex.GetType().Name}: {ex.Message}");
            _hello.TrySetException(ex);
        }
    }

    private void Dispatch(int length, long receivedUs)
    {
        var frame = _buffer.AsSpan(0, length);
        if (!_hello.Task.IsCompleted)
        {
            if (Frames.TypeOf(frame) == FrameType.Hello)
            {
                _hello.TrySetResult(Frames.ReadTopLevelLong(frame, "userSeq"u8));
                return;
            }
        }
        Handler?.OnFrame(this, frame, receivedUs);
    }

    /// <summary>Closes normally (the server sees a clean close), then releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _sendLock.WaitAsync(timeout.Token);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                await _reader.WaitAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or TimeoutException)
            {
                // Closing is best effort; the abort below releases everything either way.
            }
        }
        _socket.Abort();
        _socket.Dispose();
    }

    /// <summary>Closes many sockets with bounded concurrency.</summary>
    public static Task CloseAllAsync(IEnumerable<BenchSocket> sockets) =>
        Parallel.ForEachAsync(sockets, new ParallelOptions { MaxDegreeOfParallelism = 64 }, (s, _) => s.DisposeAsync());
}

/// <summary>Opens many sockets with bounded concurrency.</summary>
public static class Connections
{
    /// <summary>Connects sockets <paramref name="from"/>..<paramref name="to"/>-1 (each waits for its hello); fails on the first error.</summary>
    public static async Task<BenchSocket[]> ConnectAsync(int from, int to, Func<int, Uri> uri, SocketEvents events,
        IFrameHandler? handler, int concurrency = 32)
    {
        var sockets = new BenchSocket[to - from];
        await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (i, ct) => sockets[i - from] = await BenchSocket.ConnectAsync(uri(i), i, events, handler, ct));
        return sockets;
    }
}
