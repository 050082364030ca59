using System.Text.Json.Nodes;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// One step of the open-loop chat load: a target rate held for a duration, then drained. Counters
/// are updated live by the sockets' read loops; loss is decided once the step has drained.
/// </summary>
public sealed class ChatStep(int index, double targetRate, TimeSpan duration, bool warmup) : OpenLoopStep(index, targetRate, duration, warmup)
{
    /// <summary>A step is sustainable when p99 (from the schedule) stays under this and nothing is lost.</summary>
    public const double SustainableP99Ms = 100;

    private long _delivered, _echoes, _maxInFlight;

    /// <summary>End to end, from the time the send was scheduled (open loop: no coordinated omission).</summary>
    public Latency Delivery { get; } = new();
    /// <summary>End to end, from just before the send frame was written.</summary>
    public Latency DeliveryFromWrite { get; } = new();
    /// <summary>When in the step the slow deliveries arrived (windows of 100 ms).</summary>
    public SlowWindows Slow { get; } = new(duration + TimeSpan.FromSeconds(40)); // the drain gives up 30 s after the step at most
    /// <summary>What counts as slow in <see cref="Slow"/>'s summary: a tenth of the p99 that makes a step sustainable.</summary>
    public const double SlowMs = SustainableP99Ms / 10;

    public long DeliveredLive => Interlocked.Read(ref _delivered);
    public long Echoes => Interlocked.Read(ref _echoes);
    public long MaxInFlight => Interlocked.Read(ref _maxInFlight);

    // Decided after the drain.
    public long Delivered { get; set; }
    /// <summary>The server process's runtime over the step (a standalone server only: a cluster's processes are not summed).</summary>
    public RuntimeCost? Runtime { get; set; }

    /// <summary>The server's conversation commits over the step (from its /metrics; a standalone server only: a cluster's commits are its silos').</summary>
    public StoreCommits? Commits { get; set; }

    /// <summary>Unique deliveries per second over the send window, or until the last delivery if later.</summary>
    public double DeliveredPerSecond => Delivered / (WindowUs / 1e6);

    public double P99Ms => Delivery.Ms(99);

    /// <summary>p99 under 100 ms, nothing lost or left unacknowledged, and the target rate actually delivered.</summary>
    public bool Sustainable => !Warmup && P99Ms < SustainableP99Ms && Clean && DeliveredPerSecond >= 0.95 * TargetRate;

    /// <summary>No point stepping higher: losing messages, a second of p99, or far below the target.</summary>
    public bool ClearlyFailed => !Clean || P99Ms > 1000 || DeliveredPerSecond < 0.8 * TargetRate;

    internal void OnSent(long lagUs, long inFlight)
    {
        RecordSent(lagUs);
        long max;
        while (inFlight > (max = Interlocked.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max) { }
    }

    internal void OnAck(long fromScheduleUs, long nowUs) => RecordAck(fromScheduleUs, nowUs);

    internal void OnDelivered(long fromScheduleUs, long fromWriteUs, long nowUs)
    {
        Interlocked.Increment(ref _delivered);
        Delivery.Record(fromScheduleUs);
        DeliveryFromWrite.Record(fromWriteUs);
        Slow.Record(nowUs - StartUs, fromScheduleUs);
        RecordDelivery(nowUs);
    }

    internal void OnEcho() => Interlocked.Increment(ref _echoes);

    public JsonObject ToJson() => new()
    {
        ["targetPerSecond"] = TargetRate,
        ["durationSeconds"] = Duration.TotalSeconds,
        ["warmup"] = Warmup,
        ["scheduled"] = Scheduled,
        ["sent"] = Sent,
        ["acked"] = Acked,
        ["delivered"] = Delivered,
        ["deliveredPerSecond"] = Math.Round(DeliveredPerSecond, 1),
        ["latencyFromScheduleMs"] = Delivery.ToJson(),
        ["latencyFromWriteMs"] = DeliveryFromWrite.ToJson(),
        ["ackLatencyFromScheduleMs"] = Ack.ToJson(),
        ["slowWindows"] = Slow.ToJson(SlowMs),
        ["sendLagMs"] = SendLag.ToJson(),
        ["lost"] = Lost,
        ["unacked"] = Unacked,
        ["unsent"] = Unsent,
        ["duplicates"] = Duplicates,
        ["outOfOrder"] = OutOfOrder,
        ["misrouted"] = Misrouted,
        ["echoesToSender"] = Echoes,
        ["errors"] = Errors,
        ["sendFailures"] = SendFailures,
        ["firstError"] = FirstError,
        ["disconnects"] = Disconnects,
        ["maxInFlightPerSocket"] = MaxInFlight,
        ["windowFullWaits"] = WindowWaits,
        ["drainSeconds"] = Math.Round((DrainedUs - EndUs) / 1e6, 2),
        ["serverCpuPercent"] = double.IsNaN(Cpu.ServerPercent) ? null : Math.Round(Cpu.ServerPercent, 1),
        ["benchCpuPercent"] = Math.Round(Cpu.BenchPercent, 1),
        ["otherProcessesCpuPercent"] = Math.Round(Cpu.OtherPercent, 1),
        ["stealCpuPercent"] = Math.Round(Cpu.StealPercent, 1),
        ["serverCpuUsPerDelivered"] = double.IsNaN(Cpu.ServerSeconds) || Delivered == 0 ? null : Math.Round(Cpu.ServerSeconds * 1e6 / Delivered, 1),
        ["serverRssKiB"] = ServerRssKiB < 0 ? null : ServerRssKiB,
        ["serverRuntime"] = Runtime?.ToJson(Delivered),
        ["storeCommits"] = Commits?.ToJson(),
        ["diskFlushesPerSecond"] = Math.Round(FlushesPerSecond, 1),
        ["diskFlushesPerMessage"] = Delivered == 0 ? null : Math.Round((double)Disk.Flushes / Delivered, 3),
        ["diskMsPerFlush"] = Disk.Flushes == 0 ? null : Math.Round((double)Disk.FlushMs / Disk.Flushes, 3),
        ["deliveredPerDiskFlush"] = Disk.Flushes == 0 ? null : Math.Round((double)Delivered / Disk.Flushes, 2),
        ["diskWrites"] = Disk.Writes,
        ["diskKiBPerMessage"] = Delivered == 0 ? null : Math.Round(Disk.BytesWritten / 1024.0 / Delivered, 2),
        ["sustainable"] = Sustainable,
    };
}
