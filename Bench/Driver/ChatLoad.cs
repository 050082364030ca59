using System.Text.Json;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// Open-loop 1:1 chat: users in pairs, each sending to its partner. A dispatcher thread schedules
/// sends by the clock at the step's total rate, spread round-robin over the users (so each sends at
/// rate/N), whatever the acks do; latency is measured from the scheduled time, so a server that falls
/// behind is charged for the whole wait (no coordinated omission). The receiver scores each push from
/// what the clientMsgId carries.
/// </summary>
public sealed class ChatLoad : IFrameHandler
{
    private const int MaxSteps = 64;
    private readonly ChatSender?[] _senders;
    private readonly ChatStep[] _steps = new ChatStep[MaxSteps]; // read by socket loops while steps are added: no resizing
    private int _stepCount;
    private readonly SocketEvents _events;

    public ChatLoad(int users, int window, string text, SocketEvents events)
    {
        _senders = new ChatSender?[users];
        Window = window;
        Text = text;
        _events = events;
        Current = new ChatStep(0, 0, TimeSpan.Zero, warmup: true);
    }

    /// <summary>Most sends one socket may have unacknowledged (the gateway allows 256 in progress by default).</summary>
    public int Window { get; }

    public string Text { get; }

    /// <summary>The step being run; every send is charged to it.</summary>
    public ChatStep Current { get; private set; }

    /// <summary>Adds user <paramref name="index"/>, who sends to <paramref name="partner"/> in <paramref name="conversationId"/>.</summary>
    public void Attach(int index, BenchSocket socket, string conversationId, int partner)
    {
        _senders[index] = new ChatSender(this, socket, index, conversationId, partner);
        socket.Handler = this;
    }

    /// <summary>Holds <paramref name="rate"/> msgs/s for <paramref name="duration"/>, then drains and scores the step.</summary>
    public async Task<ChatStep> RunStepAsync(double rate, TimeSpan duration, bool warmup, IReadOnlyList<int>? serverPids)
    {
        var senders = Array.ConvertAll(_senders, s => s ?? throw new InvalidOperationException("every user must be attached"));
        if (_stepCount == MaxSteps) throw new InvalidOperationException($"at most {MaxSteps} steps per load");
        var step = new ChatStep(_stepCount, rate, duration, warmup);
        var total = (long)(rate * duration.TotalSeconds);
        step.Scheduled = total;
        var first = new long[senders.Length];
        for (var i = 0; i < senders.Length; i++)
        {
            senders[i].EnsureCapacity(total / senders.Length + 2);
            first[i] = senders[i].NextN;
        }
        _steps[_stepCount++] = step;
        Current = step;
        var disconnectsBefore = _events.UnexpectedCloses;
        var cpuStart = CpuWindow.Mark(serverPids);
        var diskStart = ProcStats.Disks();
        step.StartUs = Clock.NowUs() + 1000;

        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dispatcher = new Thread(() =>
        {
            Clock.Dispatch(step.StartUs, step.Duration.TotalMicroseconds, total, (k, scheduledUs) => senders[k % senders.Length].Schedule(scheduledUs));
            dispatched.SetResult();
        })
        { IsBackground = true, Name = "chat dispatcher", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();
        await dispatched.Task;

        await DrainAsync(senders, step);
        step.Cpu = cpuStart.Now().Since(cpuStart);
        var diskEnd = ProcStats.Disks();
        step.Disk = diskEnd - diskStart;
        step.ServerRssKiB = serverPids is { } pids ? ProcStats.RssKiB(pids) : -1;
        step.Disconnects = _events.UnexpectedCloses - disconnectsBefore;
        Score(senders, first, step);
        return step;
    }

    /// <summary>
    /// Waits until every send is answered and every acked message delivered, or until nothing has
    /// progressed for 5 s (whatever is still missing then counts as lost). Sends still queued 5 s
    /// after the step's end are dropped (unsent): the generator could not even write them.
    /// </summary>
    private static async Task DrainAsync(ChatSender[] senders, ChatStep step)
    {
        const long QuietUs = 5_000_000;
        while (true)
        {
            await Task.Delay(10);
            var now = Clock.NowUs();
            long queued = 0;
            foreach (var s in senders) queued += s.Queued;
            if (queued > 0 && (now > step.EndUs + QuietUs))
            {
                foreach (var s in senders) step.Unsent += s.DropQueued();
                queued = 0;
            }
            var answered = step.AckedLive + step.Errors + step.SendFailures;
            if (queued == 0 && answered >= step.Sent && step.DeliveredLive >= step.AckedLive) break;
            if (queued == 0 && now - Math.Max(step.LastProgressUs, step.EndUs) > QuietUs) break;
            if (now > step.EndUs + 6 * QuietUs)
            {
                foreach (var s in senders) step.Unsent += s.DropQueued();
                break;
            }
        }
        step.DrainedUs = Clock.NowUs();
    }

    private static void Score(ChatSender[] senders, long[] first, ChatStep step)
    {
        long acked = 0, delivered = 0, lost = 0, sent = 0;
        for (var i = 0; i < senders.Length; i++)
        {
            var s = senders[i];
            for (var n = first[i]; n < s.NextN; n++)
            {
                sent++;
                var a = s.Acked[n] != 0;
                var d = s.Delivered[n] != 0;
                if (a) acked++;
                if (d) delivered++;
                if (a && !d) lost++;
            }
        }
        step.Acked = acked;
        step.Delivered = delivered;
        step.Lost = lost;
        step.Unacked = sent - acked;
    }

    public void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs)
    {
        var reader = new Utf8JsonReader(frame);
        switch (Frames.ReadType(ref reader))
        {
            case FrameType.Ack:
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("clientMsgId"u8)) continue;
                    reader.Read();
                    OnAck(socket, reader.ValueSpan, receivedUs);
                    return;
                }
                return;
            case FrameType.Updates:
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("clientMsgId"u8)) continue;
                    reader.Read();
                    OnPush(socket, reader.ValueSpan, receivedUs);
                }
                return;
            case FrameType.Error:
                var error = Frames.ReadReply(FrameType.Error, ref reader, receivedUs);
                Current.OnError($"{error.ErrorCode}: {error.ErrorMessage}", receivedUs);
                if (error.Id >= 0) _senders[socket.Index]?.OnAnswered();
                return;
            default:
                return;
        }
    }

    private ChatStep? StepAt(int index) => index < MaxSteps ? Volatile.Read(ref _steps[index]) : null;

    private void OnAck(BenchSocket socket, ReadOnlySpan<byte> clientMsgId, long nowUs)
    {
        if (!FrameWriter.TryParseChatId(clientMsgId, out var stepIndex, out var senderIndex, out var n, out var scheduledUs, out _)) return;
        var sender = _senders[socket.Index]!;
        if (StepAt(stepIndex) is not { } step) return;
        if (senderIndex != socket.Index || n >= sender.Acked.Length)
        {
            step.OnMisrouted();
            return;
        }
        sender.Acked[n] = 1;
        step.OnAck(nowUs - scheduledUs, nowUs);
        sender.OnAnswered();
    }

    private void OnPush(BenchSocket socket, ReadOnlySpan<byte> clientMsgId, long nowUs)
    {
        if (!FrameWriter.TryParseChatId(clientMsgId, out var stepIndex, out var senderIndex, out var n, out var scheduledUs, out var writtenUs)) return;
        if (StepAt(stepIndex) is not { } step) return;
        if (senderIndex == socket.Index)
        {
            step.OnEcho(); // the sender's own device also gets its message
            return;
        }
        var from = (uint)senderIndex < (uint)_senders.Length ? _senders[senderIndex] : null;
        if (from is null || from.Partner != socket.Index || n >= from.Delivered.Length)
        {
            step.OnMisrouted();
            return;
        }
        if (from.Delivered[n] != 0)
        {
            step.OnDuplicate();
            return;
        }
        from.Delivered[n] = 1;
        var receiver = _senders[socket.Index]!;
        if (n < receiver.MaxReceivedFromPartner) step.OnOutOfOrder();
        else receiver.MaxReceivedFromPartner = n;
        step.OnDelivered(nowUs - scheduledUs, nowUs - writtenUs, nowUs);
    }
}
