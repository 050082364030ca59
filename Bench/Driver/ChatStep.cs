using System.Text.Json.Nodes;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// One step of the open-loop chat load: a target rate held for a duration, then drained. Counters
/// are updated live by the sockets' read loops; loss is decided once the step has drained.
/// </summary>
public sealed class ChatStep(int index, double targetRate, TimeSpan duration, bool warmup)
{
    /// <summary>A step is sustainable when p99 (from the schedule) stays under this and nothing is lost.</summary>
    public const double SustainableP99Ms = 100;

    private long _sent, _acked, _delivered, _duplicates, _outOfOrder, _echoes, _errors, _sendFailures, _windowWaits, _misrouted, _maxInFlight;
    private long _lastProgressUs, _lastDeliveryUs;
    private string? _firstError;

    public int Index { get; } = index;
    public double TargetRate { get; } = targetRate;
    public TimeSpan Duration { get; } = duration;
    public bool Warmup { get; } = warmup;

    /// <summary>End to end, from the time the send was scheduled (open loop: no coordinated omission).</summary>
    public Latency Delivery { get; } = new();
    /// <summary>End to end, from just before the send frame was written.</summary>
    public Latency DeliveryFromWrite { get; } = new();
    /// <summary>Ack received, from the time the send was scheduled.</summary>
    public Latency Ack { get; } = new();
    /// <summary>How late the load generator wrote each send (write − schedule): its own lag.</summary>
    public Latency SendLag { get; } = new();

    public long StartUs { get; set; }
    public long EndUs => StartUs + (long)Duration.TotalMicroseconds;
    public long DrainedUs { get; set; }
    public long Scheduled { get; set; }
    public long Sent => Interlocked.Read(ref _sent);
    public long AckedLive => Interlocked.Read(ref _acked);
    public long DeliveredLive => Interlocked.Read(ref _delivered);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);
    public long Echoes => Interlocked.Read(ref _echoes);
    public long Errors => Interlocked.Read(ref _errors);
    public long SendFailures => Interlocked.Read(ref _sendFailures);
    public long WindowWaits => Interlocked.Read(ref _windowWaits);
    public long Misrouted => Interlocked.Read(ref _misrouted);
    public long MaxInFlight => Interlocked.Read(ref _maxInFlight);
    public long LastProgressUs => Interlocked.Read(ref _lastProgressUs);
    public string? FirstError => _firstError;

    // Decided after the drain.
    public long Acked { get; set; }
    public long Delivered { get; set; }
    public long Lost { get; set; }
    public long Unacked { get; set; }
    public long Unsent { get; set; }
    public int Disconnects { get; set; }
    public CpuWindow Cpu { get; set; }
    public long ServerRssKiB { get; set; } = -1;
    /// <summary>Disk flushes (the store's fsyncs) during the step, machine-wide, and the ms they took.</summary>
    public (long Flushes, long FlushMs, long Writes) Disk { get; set; }

    public double FlushesPerSecond => Disk.Flushes / Math.Max((DrainedUs - StartUs) / 1e6, 1e-3);

    /// <summary>Unique deliveries per second over the send window, or until the last delivery if later.</summary>
    public double DeliveredPerSecond
    {
        get
        {
            var windowUs = Math.Max(Duration.TotalMicroseconds, Interlocked.Read(ref _lastDeliveryUs) - StartUs);
            return Delivered / (windowUs / 1e6);
        }
    }

    public double P99Ms => Delivery.Ms(99);

    /// <summary>p99 under 100 ms, nothing lost or left unacknowledged, and the target rate actually delivered.</summary>
    public bool Sustainable => !Warmup && P99Ms < SustainableP99Ms && Lost == 0 && Unacked == 0 && Unsent == 0
        && Disconnects == 0 && DeliveredPerSecond >= 0.95 * TargetRate;

    /// <summary>No point stepping higher: losing messages, a second of p99, or far below the target.</summary>
    public bool ClearlyFailed => Lost > 0 || Unacked > 0 || Unsent > 0 || Disconnects > 0 || P99Ms > 1000
        || DeliveredPerSecond < 0.8 * TargetRate;

    internal void OnSent(long lagUs, long inFlight)
    {
        Interlocked.Increment(ref _sent);
        SendLag.Record(lagUs);
        long max;
        while (inFlight > (max = Interlocked.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max) { }
    }

    internal void OnAck(long fromScheduleUs, long nowUs)
    {
        Interlocked.Increment(ref _acked);
        Ack.Record(fromScheduleUs);
        Interlocked.Exchange(ref _lastProgressUs, nowUs);
    }

    internal void OnDelivered(long fromScheduleUs, long fromWriteUs, long nowUs)
    {
        Interlocked.Increment(ref _delivered);
        Delivery.Record(fromScheduleUs);
        DeliveryFromWrite.Record(fromWriteUs);
        Interlocked.Exchange(ref _lastProgressUs, nowUs);
        Interlocked.Exchange(ref _lastDeliveryUs, nowUs);
    }

    internal void OnDuplicate() => Interlocked.Increment(ref _duplicates);
    internal void OnOutOfOrder() => Interlocked.Increment(ref _outOfOrder);
    internal void OnEcho() => Interlocked.Increment(ref _echoes);
    internal void OnMisrouted() => Interlocked.Increment(ref _misrouted);
    internal void OnWindowWait() => Interlocked.Increment(ref _windowWaits);

    internal void OnError(string description, long nowUs)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, description, null);
        Interlocked.Exchange(ref _lastProgressUs, nowUs);
    }

    internal void OnSendFailed(string description)
    {
        Interlocked.Increment(ref _sendFailures);
        Interlocked.CompareExchange(ref _firstError, description, null);
    }

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
        ["serverCpuUsPerDelivered"] = double.IsNaN(Cpu.ServerSeconds) || Delivered == 0 ? null : Math.Round(Cpu.ServerSeconds * 1e6 / Delivered, 1),
        ["serverRssKiB"] = ServerRssKiB < 0 ? null : ServerRssKiB,
        ["diskFlushesPerSecond"] = Math.Round(FlushesPerSecond, 1),
        ["diskFlushesPerMessage"] = Delivered == 0 ? null : Math.Round((double)Disk.Flushes / Delivered, 3),
        ["diskMsPerFlush"] = Disk.Flushes == 0 ? null : Math.Round((double)Disk.FlushMs / Disk.Flushes, 3),
        ["deliveredPerDiskFlush"] = Disk.Flushes == 0 ? null : Math.Round((double)Delivered / Disk.Flushes, 2),
        ["diskWrites"] = Disk.Writes,
        ["sustainable"] = Sustainable,
    };
}
