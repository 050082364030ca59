using System.Text.Json.Nodes;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// One step of the open-loop group load: a rate of messages into the group held for a duration,
/// then drained. Every online member's device should receive every message; counters are updated
/// live by the sockets' read loops, and loss is decided once the step has drained.
/// </summary>
public sealed class GroupStep(int index, double targetRate, TimeSpan duration, bool warmup, int onlineMembers)
    : OpenLoopStep(index, targetRate, duration, warmup)
{
    /// <summary>A step is sustainable when p99 to the last online member (from the schedule) stays at or under this and nothing is lost.</summary>
    public const double SustainableP99Ms = 200;

    private long _ackBytes, _deliveries, _complete;

    /// <summary>Devices that should receive each message: every online member's (the sender's own included).</summary>
    public int OnlineMembers { get; } = onlineMembers;

    /// <summary>Deliveries per second the target rate means: every message to every online member's device.</summary>
    public double TargetDeliveriesPerSecond => TargetRate * OnlineMembers;

    /// <summary>The first online member's device holds the message, from the time the send was scheduled.</summary>
    public Latency First { get; } = new();
    /// <summary>The last online member's device holds the message (every online device has it), from the time the send was scheduled.</summary>
    public Latency Last { get; } = new();
    /// <summary>Every single delivery to an online device, from the time the send was scheduled.</summary>
    public Latency Delivery { get; } = new();

    /// <summary>Bytes of the ack frames.</summary>
    public long AckBytes => Interlocked.Read(ref _ackBytes);
    /// <summary>Messages every online device holds, so far.</summary>
    public long CompleteLive => Interlocked.Read(ref _complete);
    public long DeliveriesLive => Interlocked.Read(ref _deliveries);

    // Decided after the drain.
    /// <summary>Unique deliveries to online devices of this step's messages.</summary>
    public long Deliveries { get; set; }
    /// <summary>Deliveries the lost messages (acked, but some online device never received them) were short of.</summary>
    public long MissingDeliveries { get; set; }

    /// <summary>Unique deliveries per second over the send window, or until the last delivery if later.</summary>
    public double DeliveriesPerSecond => Deliveries / (WindowUs / 1e6);

    /// <summary>Messages every online device received, per second over the same window.</summary>
    public double MessagesPerSecond => (Acked - Lost) / (WindowUs / 1e6);

    public double P99LastMs => Last.Ms(99);

    /// <summary>Server CPU per delivery to an online device, µs.</summary>
    public double ServerUsPerDelivery => Deliveries == 0 || double.IsNaN(Cpu.ServerSeconds) ? double.NaN : Cpu.ServerSeconds * 1e6 / Deliveries;

    /// <summary>p99 to the last online member at most 200 ms, nothing lost or left unacknowledged, and the target deliveries made.</summary>
    public bool Sustainable => !Warmup && P99LastMs <= SustainableP99Ms && Clean && DeliveriesPerSecond >= 0.95 * TargetDeliveriesPerSecond;

    /// <summary>No point stepping higher: losing messages, a second of p99 to the last member, or far below the target.</summary>
    public bool ClearlyFailed => !Clean || P99LastMs > 1000 || double.IsNaN(P99LastMs) || DeliveriesPerSecond < 0.8 * TargetDeliveriesPerSecond;

    internal void OnSent(long lagUs) => RecordSent(lagUs);

    internal void OnAck(long fromScheduleUs, int frameBytes, long nowUs)
    {
        Interlocked.Add(ref _ackBytes, frameBytes);
        RecordAck(fromScheduleUs, nowUs);
    }

    /// <summary>One online device received a message; <paramref name="count"/> devices now hold it.</summary>
    internal void OnDelivered(long fromScheduleUs, int count, long nowUs)
    {
        Interlocked.Increment(ref _deliveries);
        Delivery.Record(fromScheduleUs);
        if (count == 1) First.Record(fromScheduleUs);
        if (count == OnlineMembers)
        {
            Last.Record(fromScheduleUs);
            Interlocked.Increment(ref _complete);
        }
        RecordDelivery(nowUs);
    }

    public JsonObject ToJson() => new()
    {
        ["messagesPerSecondTarget"] = TargetRate,
        ["deliveriesPerSecondTarget"] = TargetDeliveriesPerSecond,
        ["onlineMembers"] = OnlineMembers,
        ["durationSeconds"] = Duration.TotalSeconds,
        ["warmup"] = Warmup,
        ["scheduled"] = Scheduled,
        ["sent"] = Sent,
        ["acked"] = Acked,
        ["deliveries"] = Deliveries,
        ["deliveriesPerSecond"] = Math.Round(DeliveriesPerSecond, 1),
        ["messagesPerSecondToAll"] = Math.Round(MessagesPerSecond, 2),
        ["ackLatencyFromScheduleMs"] = Ack.ToJson(),
        ["ackFrameBytesMean"] = AckedLive == 0 ? null : AckBytes / AckedLive,
        ["firstMemberLatencyFromScheduleMs"] = First.ToJson(),
        ["lastMemberLatencyFromScheduleMs"] = Last.ToJson(),
        ["everyDeliveryLatencyFromScheduleMs"] = Delivery.ToJson(),
        ["sendLagMs"] = SendLag.ToJson(),
        ["lost"] = Lost,
        ["missingDeliveries"] = MissingDeliveries,
        ["unacked"] = Unacked,
        ["unsent"] = Unsent,
        ["duplicates"] = Duplicates,
        ["outOfOrder"] = OutOfOrder,
        ["misrouted"] = Misrouted,
        ["errors"] = Errors,
        ["sendFailures"] = SendFailures,
        ["firstError"] = FirstError,
        ["disconnects"] = Disconnects,
        ["windowFullWaits"] = WindowWaits,
        ["drainSeconds"] = Math.Round((DrainedUs - EndUs) / 1e6, 2),
        ["serverCpuPercent"] = double.IsNaN(Cpu.ServerPercent) ? null : Math.Round(Cpu.ServerPercent, 1),
        ["benchCpuPercent"] = Math.Round(Cpu.BenchPercent, 1),
        ["otherProcessesCpuPercent"] = Math.Round(Cpu.OtherPercent, 1),
        ["stealCpuPercent"] = Math.Round(Cpu.StealPercent, 1),
        ["serverCpuUsPerDelivery"] = double.IsNaN(ServerUsPerDelivery) ? null : Math.Round(ServerUsPerDelivery, 1),
        ["serverCpuUsPerMessage"] = double.IsNaN(Cpu.ServerSeconds) || Acked == 0 ? null : Math.Round(Cpu.ServerSeconds * 1e6 / Acked, 1),
        ["serverRssKiB"] = ServerRssKiB < 0 ? null : ServerRssKiB,
        ["diskFlushesPerSecond"] = Math.Round(FlushesPerSecond, 1),
        ["diskFlushesPerMessage"] = Acked == 0 ? null : Math.Round((double)Disk.Flushes / Acked, 3),
        ["diskWrites"] = Disk.Writes,
        ["diskKiBPerMessage"] = Acked == 0 ? null : Math.Round(Disk.BytesWritten / 1024.0 / Acked, 2),
        ["sustainable"] = Sustainable,
    };
}
