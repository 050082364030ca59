namespace Messenger.Gateway.Sessions;

/// <summary>
/// The frames waiting to be written to one device, in the order they were queued. A socket's writer
/// is told when there is something to do (<see cref="StartWriting"/>) and runs only then, on the
/// thread that queued the frame when it is not already writing: an idle connection has no writer
/// waiting, and a frame goes out without a hand-off to another thread. A long poll, which has no
/// writer, waits for frames instead (<see cref="WaitToReadAsync"/>). Holds nothing but the frames and
/// sets no bound of its own: how many may wait is the session's business (its counts of replies and
/// pushes admit every frame queued here).
/// </summary>
public sealed class OutboundQueue
{
    private readonly Lock _lock = new();
    private Queue<OutboundFrame>? _frames; // made on the first frame
    private bool _completed;
    private Action? _writer;
    private TaskCompletionSource<bool>? _waiter; // a long poll waiting for a frame

    /// <summary>
    /// From now on <paramref name="writer"/> is called whenever a frame is queued, the queue completes or someone
    /// wakes it (<see cref="WakeWriter"/>); it is called once at once, for whatever is queued already. It runs on the
    /// caller's thread: it may write what is there, but must not wait for the peer there.
    /// </summary>
    public void StartWriting(Action writer)
    {
        lock (_lock) _writer = writer;
        writer();
    }

    /// <summary>Queues <paramref name="frame"/> last; false once the queue is complete (the frame is dropped).</summary>
    public bool TryAdd(OutboundFrame frame)
    {
        Action? writer;
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            if (_completed) return false;
            (_frames ??= new Queue<OutboundFrame>(4)).Enqueue(frame);
            writer = _writer;
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult(true);
        writer?.Invoke();
        return true;
    }

    /// <summary>Takes the oldest frame.</summary>
    public bool TryTake(out OutboundFrame frame)
    {
        lock (_lock)
        {
            if (_frames is { Count: > 0 } frames)
            {
                frame = frames.Dequeue();
                return true;
            }
        }
        frame = default;
        return false;
    }

    /// <summary>Nothing more is queued; what is queued may still be taken. The writer is told, so it can finish.</summary>
    public void Complete()
    {
        Action? writer;
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            if (_completed) return;
            _completed = true;
            writer = _writer;
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult(false);
        writer?.Invoke();
    }

    /// <summary>Calls the writer, if there is one, to look at the session again (it may have to close it).</summary>
    public void WakeWriter()
    {
        Action? writer;
        lock (_lock) writer = _writer;
        writer?.Invoke();
    }

    /// <summary>True when there is nothing to write and more may come: a writer that sees this may stop until told again.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock) return !_completed && _frames is not { Count: > 0 };
        }
    }

    /// <summary>True once the queue is complete: nothing more is queued.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_lock) return _completed;
        }
    }

    /// <summary>True once the queue is complete and every frame was taken.</summary>
    public bool IsFinished
    {
        get
        {
            lock (_lock) return _completed && _frames is not { Count: > 0 };
        }
    }

    /// <summary>
    /// For a reader without a writer (a long poll): waits until a frame is queued (true) or the queue is complete and
    /// empty (false). A wait that gives up (<paramref name="cancellationToken"/>) leaves any other wait as it was.
    /// </summary>
    public Task<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_frames is { Count: > 0 }) return Task.FromResult(true);
            if (_completed) return Task.FromResult(false);
            _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task.WaitAsync(cancellationToken);
        }
    }
}

/// <summary>A frame queued for a session; a reply holds its request's in-flight slot until it is written.</summary>
public readonly record struct OutboundFrame(byte[] Bytes, bool IsReply);
