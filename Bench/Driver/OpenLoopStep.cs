using Messenger.Bench.Hosting;

namespace Messenger.Bench.Driver;

/// <summary>
/// What every step of an open-loop load has: a target rate held for a duration then drained, the sends and
/// their acks, the failures, and the machine's figures over the step. Counters are updated live by the sockets'
/// read loops (thread-safe); what was lost is decided once the step has drained. The chat and group steps add
/// what their deliveries mean.
/// </summary>
public abstract class OpenLoopStep(int index, double targetRate, TimeSpan duration, bool warmup)
{
    private long _sent, _acked, _duplicates, _outOfOrder, _errors, _sendFailures, _windowWaits, _misrouted;
    private long _lastProgressUs, _lastDeliveryUs;
    private string? _firstError;

    public int Index { get; } = index;
    /// <summary>Messages per second sent.</summary>
    public double TargetRate { get; } = targetRate;
    public TimeSpan Duration { get; } = duration;
    public bool Warmup { get; } = warmup;

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
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);
    public long Errors => Interlocked.Read(ref _errors);
    public long SendFailures => Interlocked.Read(ref _sendFailures);
    public long WindowWaits => Interlocked.Read(ref _windowWaits);
    public long Misrouted => Interlocked.Read(ref _misrouted);
    public long LastProgressUs => Interlocked.Read(ref _lastProgressUs);
    public string? FirstError => _firstError;

    // Decided after the drain.
    public long Acked { get; set; }
    public long Lost { get; set; }
    public long Unacked { get; set; }
    public long Unsent { get; set; }
    public int Disconnects { get; set; }
    public CpuWindow Cpu { get; set; }
    public long ServerRssKiB { get; set; } = -1;
    /// <summary>Disk flushes (the store's fsyncs) during the step, machine-wide, the ms they took, and the writes and bytes.</summary>
    public DiskActivity Disk { get; set; }

    public double FlushesPerSecond => Disk.Flushes / Math.Max((DrainedUs - StartUs) / 1e6, 1e-3);

    /// <summary>The send window, or until the last delivery if later, µs: what per-second rates divide by.</summary>
    protected double WindowUs => Math.Max(Duration.TotalMicroseconds, Interlocked.Read(ref _lastDeliveryUs) - StartUs);

    /// <summary>Nothing lost, unacknowledged, unsent or disconnected: the first condition of a sustainable step.</summary>
    protected bool Clean => Lost == 0 && Unacked == 0 && Unsent == 0 && Disconnects == 0;

    protected void RecordSent(long lagUs)
    {
        Interlocked.Increment(ref _sent);
        SendLag.Record(lagUs);
    }

    protected void RecordAck(long fromScheduleUs, long nowUs)
    {
        Interlocked.Increment(ref _acked);
        Ack.Record(fromScheduleUs);
        Interlocked.Exchange(ref _lastProgressUs, nowUs);
    }

    /// <summary>A delivery arrived at <paramref name="nowUs"/>: progress, and the end of the delivery window so far.</summary>
    protected void RecordDelivery(long nowUs)
    {
        Interlocked.Exchange(ref _lastProgressUs, nowUs);
        Interlocked.Exchange(ref _lastDeliveryUs, nowUs);
    }

    internal void OnDuplicate() => Interlocked.Increment(ref _duplicates);
    internal void OnOutOfOrder() => Interlocked.Increment(ref _outOfOrder);
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
}
