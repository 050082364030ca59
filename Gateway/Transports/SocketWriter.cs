using System.Net.WebSockets;
using System.Runtime.ExceptionServices;
using Messenger.Gateway.Sessions;
using Messenger.Grains;

namespace Messenger.Gateway.Transports;

/// <summary>
/// Writes a session's queued frames to its socket, in order, one at a time. It runs only while there is
/// something to write: the session calls <see cref="Wake"/> when it queues a frame, and the writer then
/// writes on that caller's thread (a frame Kestrel buffers at once goes out without a hand-off to another
/// thread) until the queue is empty, carrying on off that thread only while a send waits for the peer.
/// An idle connection therefore holds no writer loop, no waiting read of the queue and no cancellation
/// registration. When the session ends the queue (logout, shutdown) or overflows (a slow consumer), the
/// writer sends the close frame that says why, and aborts the socket if the client has not answered it
/// within 2 s.
/// </summary>
internal sealed class SocketWriter(WebSocket socket, ClientSession session, TimeSpan sendTimeout) : IDisposable
{
    private const int Idle = 0, Writing = 1, Done = 2;
    private static readonly TimeSpan CloseSendTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CloseAnswerTimeout = TimeSpan.FromSeconds(2);

    private int _state;
    private TaskCompletionSource? _stopped; // made only when the transport waits for the writer to stop
    private Timer? _abort;                  // armed after our close frame, until reading ends
    private Exception? _failure;            // an unexpected error, for the transport to rethrow

    /// <summary>Something was queued, or the session changed: write it, unless a write is in progress (it will).</summary>
    public void Wake()
    {
        if (Interlocked.CompareExchange(ref _state, Writing, Idle) == Idle) _ = WriteAsync();
    }

    private async Task WriteAsync()
    {
        try
        {
            while (true)
            {
                while (!session.IsSlowConsumer && !session.Closed.IsCancellationRequested && session.TryRead(out var frame))
                {
                    var send = socket.SendAsync(frame.Bytes.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    if (send.IsCompleted) send.GetAwaiter().GetResult(); // (throws if it failed)
                    else await WithTimeoutAsync(send);
                    session.Written(frame);
                }
                if (session.IsSlowConsumer)
                {
                    await CloseAsync(WebSocketCloseStatus.PolicyViolation, ErrorCode.SlowConsumer);
                    return;
                }
                // The session ended (reading is over), or its queue did (logout, shutdown) and everything queued is
                // written: say why if there is a reason; otherwise the transport closes the socket normally.
                if (session.Closed.IsCancellationRequested || session.IsQueueFinished)
                {
                    if (session.IsLoggedOut) await CloseAsync(WebSocketTransport.LoggedOut, ErrorCode.LoggedOut);
                    else if (session.IsShuttingDown) await CloseAsync(WebSocketTransport.ServiceRestart, ErrorCode.ServerShutdown);
                    else Finish();
                    return;
                }
                // Interlocked on both sides (here the state, then the queue; a waker the queue, then the state): a
                // frame queued after the drain either sees Idle and starts a writer, or is seen here.
                Interlocked.Exchange(ref _state, Idle);
                if (session.IsWriterIdle && !session.IsSlowConsumer && !session.Closed.IsCancellationRequested) break;
                if (Interlocked.CompareExchange(ref _state, Writing, Idle) != Idle) break; // another writer took over
            }
        }
        catch (Exception ex)
        {
            // The socket broke, or a send could not be written in time (the peer is stuck) and the timeout aborted it.
            if (ex is not (WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)) _failure = ex;
            socket.Abort();
            Finish();
            return;
        }
    }

    /// <summary>
    /// Waits for a send that did not complete at once (the peer is not reading and the buffers are full); past
    /// the send timeout the socket is aborted, which fails the send. Most sends complete at once, as
    /// Kestrel buffers the frame, so only these pay for a timer: an idle connection holds none.
    /// </summary>
    private async ValueTask WithTimeoutAsync(ValueTask send)
    {
        using var abort = new Timer(static state => ((WebSocket)state!).Abort(), socket, sendTimeout, Timeout.InfiniteTimeSpan);
        await send;
    }

    /// <summary>Sends the close frame that says why the session ended; the client answers it, or is cut off.</summary>
    private async Task CloseAsync(WebSocketCloseStatus status, ErrorCode reason)
    {
        await WebSocketTransport.CloseAsync(socket, status, reason.ToWire(), CloseSendTimeout);
        _abort = new Timer(static state => ((WebSocket)state!).Abort(), socket, CloseAnswerTimeout, Timeout.InfiniteTimeSpan);
        Finish();
    }

    /// <summary>The writer is done for good; requests waiting for a reply slot give up, and nothing more is queued.</summary>
    private void Finish()
    {
        Interlocked.Exchange(ref _state, Done);
        try
        {
            session.Complete();
        }
        finally
        {
            Volatile.Read(ref _stopped)?.TrySetResult();
        }
    }

    /// <summary>
    /// For the transport, after <see cref="ClientSession.Complete"/>: completes once the writer is done for good. From
    /// then on every writer ends done (the session is closed), and an idle one is made done here, so none starts later.
    /// </summary>
    public Task StoppedAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Done, Idle) == Idle) return Task.CompletedTask;
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _stopped, stopped);
        if (Volatile.Read(ref _state) == Done) stopped.TrySetResult();
        return stopped.Task;
    }

    /// <summary>Rethrows an unexpected error of a write, so the host logs it as it would any request's.</summary>
    public void ThrowIfFailed()
    {
        if (_failure is { } failure) ExceptionDispatchInfo.Throw(failure);
    }

    public void Dispose() => _abort?.Dispose();
}
