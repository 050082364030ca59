using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Push;

/// <summary>
/// Open-loop sends to offline recipients, scored by the notifications a <see cref="WebhookReceiver"/> gets.
/// A dispatcher thread schedules message n by the clock at the step's rate; <paramref name="route"/> says
/// which sender's socket sends it into which conversation. Each ack gives the message's seq and
/// <c>sentAt</c>, so a notification (conversation, seq, count) can be traced back to the messages it stands
/// for: the newest is its seq, the oldest seq − count + 1 (every message of these conversations but the
/// group's creation event is the bench's, and events make no notification).
/// </summary>
public sealed class PushLoad : IFrameHandler
{
    private const int MaxSteps = 64;
    private readonly PushStep[] _steps = new PushStep[MaxSteps];
    private int _stepCount;
    private readonly PushLoadSender[] _senders;
    private readonly string[] _conversations;
    private readonly Dictionary<string, int> _conversationIndex;
    private readonly Func<long, (int Sender, int Conversation)> _route;
    private readonly WebhookReceiver _receiver;
    private readonly int _recipientsPerMessage;
    private readonly TimeSpan _delay;
    private readonly double _boundMs;
    // Per message n, sized once for every step planned (ack handlers write them from the sockets' read loops).
    private readonly int[] _conversationOf;
    private readonly int[] _stepOf;
    private readonly long[] _scheduledUs;
    private readonly long[] _sentAtUnixUs;
    private readonly ConcurrentDictionary<(int Conversation, long Seq), long> _bySeq = new();
    // Whether a recipient was already notified of a message (another notification covering it again is an overlap).
    private readonly HashSet<(string UserId, int Conversation, long Seq)> _notified = [];
    private long _nextN;
    private long _expectedSoFar;

    /// <param name="conversations">The conversations messages go into, by index.</param>
    /// <param name="route">Message n's sender (socket index) and conversation index.</param>
    /// <param name="recipientsPerMessage">Offline recipients each message is for.</param>
    /// <param name="capacity">Messages the load may send in all its steps together.</param>
    public PushLoad(IReadOnlyList<string> conversations, int senders, Func<long, (int, int)> route, WebhookReceiver receiver,
        int recipientsPerMessage, TimeSpan delay, double boundMs, int window, string text, long capacity)
    {
        _conversations = [.. conversations];
        _conversationIndex = new Dictionary<string, int>(_conversations.Length, StringComparer.Ordinal);
        for (var i = 0; i < _conversations.Length; i++) _conversationIndex[_conversations[i]] = i;
        _senders = new PushLoadSender[senders];
        _route = route;
        _receiver = receiver;
        _recipientsPerMessage = recipientsPerMessage;
        _delay = delay;
        _boundMs = boundMs;
        Window = window;
        Text = text;
        _conversationOf = new int[capacity];
        _stepOf = new int[capacity];
        _scheduledUs = new long[capacity];
        _sentAtUnixUs = new long[capacity];
    }

    public int Window { get; }
    public string Text { get; }

    /// <summary>Recipients notified of the same message twice, under different notification ids (must be 0).</summary>
    public long Overlaps { get; private set; }

    /// <summary>Notifications so far for a message the bench never saw acked, or of a conversation it did not send into (must be 0).</summary>
    public long Unattributed() => _receiver.Snapshot().LongCount(n =>
        !_conversationIndex.TryGetValue(n.ConversationId, out var conversation) || !_bySeq.ContainsKey((conversation, n.Seq)));

    /// <summary>Messages a load of these steps sends, with room for rounding.</summary>
    public static long Capacity(IEnumerable<(double Rate, TimeSpan Duration)> steps) =>
        steps.Sum(s => (long)(s.Rate * s.Duration.TotalSeconds) + 1) + 16;

    /// <summary>Adds sender <paramref name="index"/>'s socket (its index must be the sender's).</summary>
    public void Attach(BenchSocket socket)
    {
        _senders[socket.Index] = new PushLoadSender(this, socket);
        socket.Handler = this;
    }

    /// <summary>Ends the senders' pumps (their sockets are closed after this).</summary>
    public void Complete()
    {
        foreach (var sender in _senders) sender?.Complete();
    }

    /// <summary>Holds <paramref name="rate"/> msgs/s for <paramref name="duration"/>, drains, and scores the step.</summary>
    public async Task<PushStep> RunStepAsync(double rate, TimeSpan duration, bool warmup, GatewayTarget target, ServerMetrics metrics)
    {
        if (_senders.Any(s => s is null)) throw new InvalidOperationException("every sender must be attached");
        if (_stepCount == MaxSteps) throw new InvalidOperationException($"at most {MaxSteps} steps per load");
        var step = new PushStep(_stepCount, rate, duration, warmup, _recipientsPerMessage, _delay, _boundMs);
        var total = (long)Math.Round(rate * duration.TotalSeconds);
        var firstN = _nextN;
        if (firstN + total > _stepOf.Length) throw new InvalidOperationException("more messages than the load was sized for");
        step.Scheduled = total;
        _steps[_stepCount++] = step;
        var before = await metrics.ReadAsync();
        var cpuStart = CpuWindow.Mark(target.Pids);
        var threadsStart = target.Pids is { } pids ? ProcStats.ThreadCpuTimes(pids) : null;
        step.StartUs = Clock.NowUs() + 1000;

        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new Thread(() =>
        {
            Clock.Dispatch(step.StartUs, step.Duration.TotalMicroseconds, total, (k, scheduledUs) =>
            {
                var n = firstN + k;
                var (sender, conversation) = _route(n);
                _conversationOf[n] = conversation;
                _stepOf[n] = step.Index;
                _scheduledUs[n] = scheduledUs;
                _senders[sender].Schedule(n, _conversations[conversation], scheduledUs, step);
            });
            dispatched.SetResult();
        })
        { IsBackground = true, Name = "push dispatcher", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await dispatched.Task;
        _nextN = firstN + total;

        await DrainAsync(step);
        step.Cpu = cpuStart.Now().Since(cpuStart);
        if (threadsStart is not null) step.ServerThreads = ThreadShares(threadsStart, ProcStats.ThreadCpuTimes(target.Pids!), step.DrainedUs - step.StartUs);
        if (before is not null && await metrics.ReadAsync() is { } after) step.ServerMetrics = ServerMetrics.Delta(before, after);
        Score(step);
        return step;
    }

    /// <summary>The server's busiest threads (by name) over the step, in % of one core.</summary>
    private static JsonObject ThreadShares(Dictionary<string, TimeSpan> before, Dictionary<string, TimeSpan> after, long wallUs)
    {
        var json = new JsonObject();
        var shares = after.Select(p => (Name: p.Key, Percent: 100 * (p.Value - before.GetValueOrDefault(p.Key)).TotalMicroseconds / Math.Max(wallUs, 1)))
            .Where(p => p.Percent >= 1).OrderByDescending(p => p.Percent).Take(6);
        foreach (var (name, percent) in shares) json[name] = Math.Round(percent, 1);
        return json;
    }

    /// <summary>
    /// Waits until every send is answered and the notifications cover every (recipient, message) pair sent so
    /// far, or until none has come for 5 s past the delay, at most a minute past the step.
    /// </summary>
    private async Task DrainAsync(PushStep step)
    {
        var quietUs = (long)(_delay.TotalMicroseconds + 5_000_000);
        var capUs = step.EndUs + (long)_delay.TotalMicroseconds + 60_000_000;
        var counted = false;
        while (true)
        {
            await Task.Delay(20);
            var now = Clock.NowUs();
            var answered = step.Acked + step.Errors >= step.Scheduled;
            if (answered && !counted)
            {
                _expectedSoFar += step.Expected;
                counted = true;
            }
            if (counted && _receiver.Covered >= _expectedSoFar) break;
            if (now - Math.Max(_receiver.LastReceivedUs, step.EndUs) > quietUs) break;
            if (now > capUs) break;
        }
        if (!counted) _expectedSoFar += step.Expected;
        step.DrainedUs = Clock.NowUs();
    }

    /// <summary>Traces each notification to the messages it stands for; charges to this step those of its messages.</summary>
    private void Score(PushStep step)
    {
        var deadlineUs = step.EndUs + (long)(_delay + PushStep.Grace).TotalMicroseconds;
        long notifications = 0, covered = 0, inTime = 0, collapsed = 0, last = 0;
        foreach (var n in _receiver.Snapshot())
        {
            if (!_conversationIndex.TryGetValue(n.ConversationId, out var conversation)) continue;
            if (!_bySeq.TryGetValue((conversation, n.Seq), out var newest)) continue;
            if (_stepOf[newest] == step.Index)
            {
                notifications++;
                if (n.Count > 1) collapsed++;
                last = Math.Max(last, n.ReceivedUs);
                step.Push.Record(n.ReceivedUnixUs - n.SentAtUnixUs);
                step.FromSchedule.Record(n.ReceivedUs - _scheduledUs[newest]);
                var oldestSentAt = _bySeq.TryGetValue((conversation, n.Seq - n.Count + 1), out var oldest) ? _sentAtUnixUs[oldest] : n.SentAtUnixUs;
                step.Oldest.Record(n.ReceivedUnixUs - oldestSentAt);
            }
            for (var seq = n.Seq - n.Count + 1; seq <= n.Seq; seq++)
            {
                if (!_bySeq.TryGetValue((conversation, seq), out var m) || _stepOf[m] != step.Index) continue;
                covered++;
                if (n.ReceivedUs <= deadlineUs) inTime++;
                if (!_notified.Add((n.UserId, conversation, seq))) Overlaps++;
            }
        }
        step.Notifications = notifications;
        step.Covered = covered;
        step.CoveredInTime = inTime;
        step.Collapsed = collapsed;
        step.LastReceivedUs = last == 0 ? step.EndUs : last;
    }

    private PushStep? StepAt(int index) => index < MaxSteps ? Volatile.Read(ref _steps[index]) : null;

    public void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs)
    {
        var reader = new Utf8JsonReader(frame);
        switch (Frames.ReadType(ref reader))
        {
            case FrameType.Ack:
                OnAck(socket, ref reader);
                return;
            case FrameType.Error:
                var error = Frames.ReadReply(FrameType.Error, ref reader, receivedUs);
                // The frame's id is the message number the sender gave it.
                var step = error.Id >= 0 && error.Id < _stepOf.Length ? StepAt(_stepOf[error.Id]) : null;
                (step ?? StepAt(Math.Max(0, _stepCount - 1)))?.OnError($"{error.ErrorCode}: {error.ErrorMessage}");
                if (error.Id >= 0) _senders[socket.Index].OnAnswered();
                return;
            default:
                return; // the sender's own copies of its messages, receipts
        }
    }

    private void OnAck(BenchSocket socket, ref Utf8JsonReader reader)
    {
        long seq = 0, sentAtUnixUs = 0, n = -1;
        var stepIndex = -1;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
            if (reader.ValueTextEquals("seq"u8)) { reader.Read(); seq = reader.GetInt64(); }
            else if (reader.ValueTextEquals("sentAt"u8))
            {
                reader.Read();
                sentAtUnixUs = (reader.GetDateTimeOffset().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
            }
            else if (reader.ValueTextEquals("clientMsgId"u8))
            {
                reader.Read();
                if (FrameWriter.TryParseChatId(reader.ValueSpan, out var s, out _, out var number, out _, out _)) (stepIndex, n) = (s, number);
            }
            else if (reader.ValueTextEquals("offlineRecipients"u8)) break; // all we need comes before it
        }
        if (n < 0 || n >= _stepOf.Length || StepAt(stepIndex) is not { } step) return;
        _sentAtUnixUs[n] = sentAtUnixUs;
        _bySeq[(_conversationOf[n], seq)] = n;
        step.OnAck();
        _senders[socket.Index].OnAnswered();
    }

    /// <summary>One sender's socket: the dispatcher queues messages; a pump writes them in order, at most a window unacknowledged.</summary>
    private sealed class PushLoadSender
    {
        private readonly Channel<(long N, string Conversation, long ScheduledUs, PushStep Step)> _queue =
            Channel.CreateUnbounded<(long, string, long, PushStep)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly SemaphoreSlim _window;
        private readonly PushLoad _load;
        private readonly BenchSocket _socket;

        public PushLoadSender(PushLoad load, BenchSocket socket)
        {
            _load = load;
            _socket = socket;
            _window = new SemaphoreSlim(load.Window);
            _ = Task.Run(PumpAsync);
        }

        public void Schedule(long n, string conversation, long scheduledUs, PushStep step) => _queue.Writer.TryWrite((n, conversation, scheduledUs, step));

        public void OnAnswered() => _window.Release();

        public void Complete() => _queue.Writer.TryComplete();

        private async Task PumpAsync()
        {
            var frame = new byte[1024 + _load.Text.Length];
            await foreach (var (n, conversation, scheduledUs, step) in _queue.Reader.ReadAllAsync())
            {
                await _window.WaitAsync();
                var length = FrameWriter.ChatSend(frame, conversation, step.Index, _socket.Index, n, scheduledUs, Clock.NowUs(), _load.Text);
                step.OnSent();
                try
                {
                    await _socket.SendAsync(frame.AsMemory(0, length));
                }
                catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or IOException)
                {
                    _window.Release();
                    step.OnError($"send failed: {ex.Message}");
                }
            }
        }
    }
}
