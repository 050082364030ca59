namespace Messenger.Bench.Driver;

/// <summary>
/// One user of the chat load: its socket, its conversation, and its outgoing schedule. The
/// dispatcher queues scheduled send times; a pump on the thread pool writes them in order,
/// pipelined (it never waits for acks, only for the socket write), up to <see cref="ChatLoad.Window"/>
/// unacknowledged sends. Per-message flags record which of its messages were acked and which its
/// partner received.
/// </summary>
internal sealed class ChatSender(ChatLoad load, BenchSocket socket, int index, string conversationId, int partner) : IThreadPoolWorkItem
{
    private readonly Queue<long> _schedule = new();
    private readonly byte[] _frame = new byte[1024 + load.Text.Length + conversationId.Length];
    private bool _pumping;
    private int _inFlight;
    private TaskCompletionSource? _windowOpen;

    public BenchSocket Socket { get; } = socket;
    public int Index { get; } = index;
    public int Partner { get; } = partner;
    public string ConversationId { get; } = conversationId;

    /// <summary>The number of this sender's next message (across all steps).</summary>
    public long NextN { get; private set; }

    /// <summary>acked[n] = 1 once the server acknowledged message n (written by this socket's read loop).</summary>
    public byte[] Acked { get; private set; } = [];

    /// <summary>delivered[n] = 1 once the partner received message n (written by the partner's read loop).</summary>
    public byte[] Delivered { get; private set; } = [];

    /// <summary>The highest n received from the partner so far (receiver-side order check).</summary>
    public long MaxReceivedFromPartner { get; set; } = -1;

    /// <summary>Makes room for <paramref name="more"/> messages; only between steps.</summary>
    public void EnsureCapacity(long more)
    {
        var needed = NextN + more;
        if (needed <= Acked.Length) return;
        var size = (int)Math.Max(needed, Acked.Length * 2L);
        var acked = Acked;
        var delivered = Delivered;
        Array.Resize(ref acked, size);
        Array.Resize(ref delivered, size);
        Acked = acked;
        Delivered = delivered;
    }

    public int Queued
    {
        get { lock (_schedule) return _schedule.Count; }
    }

    /// <summary>Queues a send for <paramref name="scheduledUs"/>; called by the dispatcher thread.</summary>
    public void Schedule(long scheduledUs)
    {
        bool start;
        lock (_schedule)
        {
            _schedule.Enqueue(scheduledUs);
            start = !_pumping;
            _pumping = true;
        }
        if (start) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Drops everything still queued; returns how many.</summary>
    public int DropQueued()
    {
        lock (_schedule)
        {
            var count = _schedule.Count;
            _schedule.Clear();
            return count;
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = PumpAsync();

    private async Task PumpAsync()
    {
        while (true)
        {
            long scheduledUs;
            lock (_schedule)
            {
                if (!_schedule.TryDequeue(out scheduledUs))
                {
                    _pumping = false;
                    return;
                }
            }
            var step = load.Current;
            if (Volatile.Read(ref _inFlight) >= load.Window)
            {
                step.OnWindowWait();
                while (Volatile.Read(ref _inFlight) >= load.Window) await WindowOpenAsync();
            }
            var n = NextN++;
            var writtenUs = Clock.NowUs();
            var length = FrameWriter.ChatSend(_frame, ConversationId, step.Index, Index, n, scheduledUs, writtenUs, load.Text);
            step.OnSent(writtenUs - scheduledUs, Interlocked.Increment(ref _inFlight));
            try
            {
                await Socket.SendAsync(_frame.AsMemory(0, length));
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
            {
                Interlocked.Decrement(ref _inFlight);
                step.OnSendFailed($"send failed: {ex.Message}");
            }
        }
    }

    /// <summary>An ack or an error answered one of this sender's messages.</summary>
    public void OnAnswered()
    {
        if (Interlocked.Decrement(ref _inFlight) < load.Window) Interlocked.Exchange(ref _windowOpen, null)?.TrySetResult();
    }

    private Task WindowOpenAsync()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _windowOpen, open);
        if (Volatile.Read(ref _inFlight) < load.Window) open.TrySetResult();
        return open.Task;
    }
}
