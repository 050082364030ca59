using System.Text.Json;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// Open-loop sends into one group: a dispatcher thread schedules messages by the clock at the step's
/// rate, round-robin over a few senders (online members), whatever the acks do; every online member's
/// device, the sender's own included, should receive each one. A message is numbered once for the
/// whole load (n, in its clientMsgId <c>step.sender.n.scheduledUs.writtenUs</c>, as chat's); the
/// receivers count the devices holding it, so the first device and the last (the count reaching the
/// online members) are scored as they happen, from the scheduled time (no coordinated omission).
/// </summary>
public sealed class GroupLoad : IFrameHandler
{
    private const int MaxSteps = 64;
    private readonly GroupStep[] _steps = new GroupStep[MaxSteps]; // read by socket loops while steps are added: no resizing
    private int _stepCount;
    private readonly GroupSender?[] _senders;
    private readonly SocketEvents _events;
    private readonly string _conversationId;
    // Per message n, sized once for every step planned (socket loops read them: no resizing).
    private readonly int[] _received;
    private readonly byte[] _acked;
    // Per online device (its socket's index): which messages it holds, and the highest conversation seq seen (order check).
    private readonly byte[][] _seen;
    private readonly long[] _lastSeq;
    private long _nextN;

    /// <param name="online">Online members, sockets 0..online-1; the first <paramref name="senders"/> of them send.</param>
    /// <param name="capacity">Messages the load may send in all its steps together.</param>
    public GroupLoad(int online, int senders, string conversationId, int window, string text, long capacity, SocketEvents events)
    {
        if (senders < 1 || senders > online) throw new ArgumentOutOfRangeException(nameof(senders));
        if (capacity > Array.MaxLength / 2) throw new ArgumentOutOfRangeException(nameof(capacity), "too many messages for one load");
        Online = online;
        _senders = new GroupSender?[senders];
        _conversationId = conversationId;
        Window = window;
        Text = text;
        _events = events;
        _received = new int[capacity];
        _acked = new byte[capacity];
        _seen = new byte[online][];
        for (var i = 0; i < online; i++) _seen[i] = new byte[capacity];
        _lastSeq = new long[online];
        Current = new GroupStep(0, 0, TimeSpan.Zero, warmup: true, online);
    }

    /// <summary>Devices that receive each message.</summary>
    public int Online { get; }

    /// <summary>Most sends one socket may have unacknowledged (the gateway allows 256 in progress by default).</summary>
    public int Window { get; }

    public string Text { get; }

    /// <summary>The step being run; every send is charged to it.</summary>
    public GroupStep Current { get; private set; }

    /// <summary>Messages a load of these steps sends, with room for rounding.</summary>
    public static long Capacity(IEnumerable<(double Rate, TimeSpan Duration)> steps) =>
        steps.Sum(s => (long)(s.Rate * s.Duration.TotalSeconds) + 1) + 16;

    /// <summary>Adds online member <paramref name="index"/>'s socket; the first ones also send.</summary>
    public void Attach(int index, BenchSocket socket)
    {
        if (socket.Index != index || index >= Online) throw new ArgumentException("socket index must be the member's index, below the online count");
        if (index < _senders.Length) _senders[index] = new GroupSender(this, socket, index, _conversationId);
        socket.Handler = this;
    }

    /// <summary>Holds <paramref name="rate"/> msgs/s into the group for <paramref name="duration"/>, then drains and scores the step.</summary>
    public async Task<GroupStep> RunStepAsync(double rate, TimeSpan duration, bool warmup, IReadOnlyList<int>? serverPids)
    {
        var senders = Array.ConvertAll(_senders, s => s ?? throw new InvalidOperationException("every sender must be attached"));
        if (_stepCount == MaxSteps) throw new InvalidOperationException($"at most {MaxSteps} steps per load");
        var step = new GroupStep(_stepCount, rate, duration, warmup, Online);
        var total = (long)(rate * duration.TotalSeconds);
        if (_nextN + total > _received.Length) throw new InvalidOperationException("more messages than the load was sized for");
        step.Scheduled = total;
        var firstN = _nextN;
        _steps[_stepCount++] = step;
        Current = step;
        var disconnectsBefore = _events.UnexpectedCloses;
        var cpuStart = CpuWindow.Mark(serverPids);
        var diskStart = ProcStats.Disks();
        step.StartUs = Clock.NowUs() + 1000;

        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new Thread(() =>
        {
            Clock.Dispatch(step.StartUs, step.Duration.TotalMicroseconds, total, (k, scheduledUs) => senders[k % senders.Length].Schedule(firstN + k, scheduledUs));
            dispatched.SetResult();
        })
        { IsBackground = true, Name = "group dispatcher", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await dispatched.Task;
        _nextN = firstN + total;

        await DrainAsync(senders, step);
        step.Cpu = cpuStart.Now().Since(cpuStart);
        var diskEnd = ProcStats.Disks();
        step.Disk = diskEnd - diskStart;
        step.ServerRssKiB = serverPids is { } pids ? ProcStats.RssKiB(pids) : -1;
        step.Disconnects = _events.UnexpectedCloses - disconnectsBefore;
        Score(firstN, step);
        return step;
    }

    /// <summary>
    /// Waits until every send is answered and every acked message is on every online device, or until
    /// nothing has progressed for 5 s (whatever is still missing then counts as lost). Sends still
    /// queued 5 s after the step's end are dropped (unsent): the generator could not even write them.
    /// </summary>
    private static async Task DrainAsync(GroupSender[] senders, GroupStep step)
    {
        const long QuietUs = 5_000_000;
        while (true)
        {
            await Task.Delay(10);
            var now = Clock.NowUs();
            long queued = 0;
            foreach (var s in senders) queued += s.Queued;
            if (queued > 0 && now > step.EndUs + QuietUs)
            {
                foreach (var s in senders) step.Unsent += s.DropQueued();
                queued = 0;
            }
            var answered = step.AckedLive + step.Errors + step.SendFailures;
            if (queued == 0 && answered >= step.Sent && step.CompleteLive >= step.AckedLive) break;
            if (queued == 0 && now - Math.Max(step.LastProgressUs, step.EndUs) > QuietUs) break;
            if (now > step.EndUs + 6 * QuietUs)
            {
                foreach (var s in senders) step.Unsent += s.DropQueued();
                break;
            }
        }
        step.DrainedUs = Clock.NowUs();
    }

    private void Score(long firstN, GroupStep step)
    {
        long acked = 0, deliveries = 0, lost = 0, missing = 0;
        for (var n = firstN; n < firstN + step.Scheduled; n++)
        {
            var received = Volatile.Read(ref _received[n]);
            deliveries += received;
            if (_acked[n] == 0) continue;
            acked++;
            if (received < Online)
            {
                lost++;
                missing += Online - received;
            }
        }
        step.Acked = acked;
        step.Deliveries = deliveries;
        step.Lost = lost;
        step.MissingDeliveries = missing;
        step.Unacked = step.Sent - acked;
    }

    public void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs)
    {
        var reader = new Utf8JsonReader(frame);
        switch (Frames.ReadType(ref reader))
        {
            case FrameType.Ack:
                // clientMsgId comes before the (possibly long) offlineRecipients list: stop there.
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("clientMsgId"u8)) continue;
                    reader.Read();
                    OnAck(socket, reader.ValueSpan, frame.Length, receivedUs);
                    return;
                }
                return;
            case FrameType.Updates:
                // Each update's message carries its seq before its clientMsgId (membership events have ids the parse refuses).
                long seq = 0;
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName) continue;
                    if (reader.ValueTextEquals("seq"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.Number) seq = reader.GetInt64();
                    }
                    else if (reader.ValueTextEquals("clientMsgId"u8))
                    {
                        reader.Read();
                        OnPush(socket, reader.ValueSpan, seq, receivedUs);
                    }
                }
                return;
            case FrameType.Error:
                var error = Frames.ReadReply(FrameType.Error, ref reader, receivedUs);
                Current.OnError($"{error.ErrorCode}: {error.ErrorMessage}", receivedUs);
                if (error.Id >= 0 && socket.Index < _senders.Length) _senders[socket.Index]?.OnAnswered();
                return;
            default:
                return;
        }
    }

    private GroupStep? StepAt(int index) => index < MaxSteps ? Volatile.Read(ref _steps[index]) : null;

    private void OnAck(BenchSocket socket, ReadOnlySpan<byte> clientMsgId, int frameBytes, long nowUs)
    {
        if (!FrameWriter.TryParseChatId(clientMsgId, out var stepIndex, out var senderIndex, out var n, out var scheduledUs, out _)) return;
        if (StepAt(stepIndex) is not { } step) return;
        if (senderIndex != socket.Index || senderIndex >= _senders.Length || n >= _acked.Length)
        {
            step.OnMisrouted();
            return;
        }
        _acked[n] = 1;
        step.OnAck(nowUs - scheduledUs, frameBytes, nowUs);
        _senders[senderIndex]!.OnAnswered();
    }

    private void OnPush(BenchSocket socket, ReadOnlySpan<byte> clientMsgId, long seq, long nowUs)
    {
        if (!FrameWriter.TryParseChatId(clientMsgId, out var stepIndex, out _, out var n, out var scheduledUs, out _)) return;
        if (StepAt(stepIndex) is not { } step) return;
        var device = socket.Index;
        if ((uint)device >= (uint)_seen.Length || n >= _received.Length)
        {
            step.OnMisrouted();
            return;
        }
        // One read loop per socket: this device's arrays have a single writer.
        var seen = _seen[device];
        if (seen[n] != 0)
        {
            step.OnDuplicate();
            return;
        }
        seen[n] = 1;
        if (seq < _lastSeq[device]) step.OnOutOfOrder();
        else _lastSeq[device] = seq;
        step.OnDelivered(nowUs - scheduledUs, Interlocked.Increment(ref _received[n]), nowUs);
    }
}

/// <summary>
/// One sending member of the group load: the dispatcher queues (message number, scheduled time); a
/// pump on the thread pool writes them in order, pipelined (it never waits for acks, only for the
/// socket write), up to <see cref="GroupLoad.Window"/> unacknowledged.
/// </summary>
internal sealed class GroupSender(GroupLoad load, BenchSocket socket, int index, string conversationId) : IThreadPoolWorkItem
{
    private readonly Queue<(long N, long ScheduledUs)> _schedule = new();
    private readonly byte[] _frame = new byte[1024 + load.Text.Length + conversationId.Length];
    private bool _pumping;
    private int _inFlight;
    private TaskCompletionSource? _windowOpen;

    public int Queued
    {
        get { lock (_schedule) return _schedule.Count; }
    }

    /// <summary>Queues message <paramref name="n"/> for <paramref name="scheduledUs"/>; called by the dispatcher thread.</summary>
    public void Schedule(long n, long scheduledUs)
    {
        bool start;
        lock (_schedule)
        {
            _schedule.Enqueue((n, scheduledUs));
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
            (long N, long ScheduledUs) next;
            lock (_schedule)
            {
                if (!_schedule.TryDequeue(out next))
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
            var writtenUs = Clock.NowUs();
            var length = FrameWriter.ChatSend(_frame, conversationId, step.Index, index, next.N, next.ScheduledUs, writtenUs, load.Text);
            step.OnSent(writtenUs - next.ScheduledUs);
            Interlocked.Increment(ref _inFlight);
            try
            {
                await socket.SendAsync(_frame.AsMemory(0, length));
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
