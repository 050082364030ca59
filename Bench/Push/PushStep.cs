using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;

namespace Messenger.Bench.Push;

/// <summary>
/// One step of the push load: messages to offline recipients at a rate held for a duration, then drained
/// until every message is covered by a notification (or nothing comes for a while). Sends and acks are
/// counted live; the notifications are scored once the step has drained.
/// </summary>
public sealed class PushStep(int index, double rate, TimeSpan duration, bool warmup, int recipientsPerMessage, TimeSpan delay, double boundMs)
{
    /// <summary>How long after the step (beyond the server's delay) notifications still count as keeping up.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private long _sent, _acked, _errors;
    private string? _firstError;

    public int Index { get; } = index;
    /// <summary>Messages per second sent.</summary>
    public double Rate { get; } = rate;
    public TimeSpan Duration { get; } = duration;
    public bool Warmup { get; } = warmup;
    /// <summary>Offline recipients each message is for (the group's members but the sender; 1 for a direct message).</summary>
    public int RecipientsPerMessage { get; } = recipientsPerMessage;
    /// <summary>The server's <c>Push:Delay</c>.</summary>
    public TimeSpan Delay { get; } = delay;
    /// <summary>The p99 from commit to push a sustainable step stays under, on top of the delay.</summary>
    public double BoundMs { get; } = boundMs;

    public long StartUs { get; set; }
    public long EndUs => StartUs + (long)Duration.TotalMicroseconds;
    public long DrainedUs { get; set; }
    public long Scheduled { get; set; }
    public long Sent => Interlocked.Read(ref _sent);
    public long Acked => Interlocked.Read(ref _acked);
    public long Errors => Interlocked.Read(ref _errors);
    public string? FirstError => _firstError;

    // Scored after the drain.
    /// <summary>Unique notifications for this step's messages (by the newest message each stands for).</summary>
    public long Notifications { get; set; }
    /// <summary>(recipient, message) pairs of this step's messages covered by a notification (through its <c>count</c>).</summary>
    public long Covered { get; set; }
    /// <summary>The same, by notifications that came within the step, the delay and <see cref="Grace"/>.</summary>
    public long CoveredInTime { get; set; }
    /// <summary>Notifications that stood for more than one message.</summary>
    public long Collapsed { get; set; }
    /// <summary>When the last of this step's notifications came.</summary>
    public long LastReceivedUs { get; set; }
    /// <summary>From <c>sentAt</c> (the newest message's commit) to the notification reaching the webhook.</summary>
    public Latency Push { get; } = new();
    /// <summary>From the commit of the oldest message a notification stands for (a collapsed burst waited longer).</summary>
    public Latency Oldest { get; } = new();
    /// <summary>From the newest message's scheduled send time: the send, the commit and the push.</summary>
    public Latency FromSchedule { get; } = new();
    public CpuWindow Cpu { get; set; }
    /// <summary>The server's busiest threads by name over the step (to the drain's end), % of one core.</summary>
    public JsonObject? ServerThreads { get; set; }
    /// <summary>What the server's <c>/metrics</c> counted over the step (deltas), when it could be read.</summary>
    public JsonObject? ServerMetrics { get; set; }

    /// <summary>(recipient, message) pairs the acked messages make.</summary>
    public long Expected => Acked * RecipientsPerMessage;

    /// <summary>The notifications/s the rate means if nothing collapses.</summary>
    public double TargetNotificationsPerSecond => Rate * RecipientsPerMessage;

    /// <summary>Seconds the step's notifications took to come: the step, or until the last came (less the delay) if later.</summary>
    public double WindowSeconds => Math.Max(Duration.TotalSeconds, (LastReceivedUs - StartUs - Delay.TotalMicroseconds) / 1e6);

    public double NotificationsPerSecond => Notifications / WindowSeconds;
    public double CoveredPerSecond => Covered / WindowSeconds;
    public double InTimePercent => Expected == 0 ? double.NaN : 100.0 * CoveredInTime / Expected;
    public double BoundWithDelayMs => BoundMs + Delay.TotalMilliseconds;

    /// <summary>Server CPU per notification, µs.</summary>
    public double ServerUsPerNotification => Notifications == 0 || double.IsNaN(Cpu.ServerSeconds) ? double.NaN : Cpu.ServerSeconds * 1e6 / Notifications;

    /// <summary>
    /// Every message sent and acked, ≥ 95% of its (recipient, message) pairs notified in time, and p99 under the bound
    /// both from the commit and from the scheduled send (a send path that falls behind delays the push as much).
    /// </summary>
    public bool Sustainable(long duplicates, long badSignatures) => !Warmup && duplicates == 0 && badSignatures == 0 && Errors == 0
        && Acked == Scheduled && InTimePercent >= 95 && Push.Ms(99) <= BoundWithDelayMs && FromSchedule.Ms(99) <= BoundWithDelayMs;

    /// <summary>No point stepping higher: far behind, or the tail seconds over the bound.</summary>
    public bool ClearlyFailed => Errors > 0 || InTimePercent < 80 || double.IsNaN(Push.Ms(99)) || FromSchedule.Ms(99) > 3 * BoundWithDelayMs;

    internal void OnSent() => Interlocked.Increment(ref _sent);
    internal void OnAck() => Interlocked.Increment(ref _acked);

    internal void OnError(string description)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, description, null);
    }

    public JsonObject ToJson(long duplicates, long badSignatures) => new()
    {
        ["messagesPerSecond"] = Rate,
        ["durationSeconds"] = Duration.TotalSeconds,
        ["warmup"] = Warmup,
        ["recipientsPerMessage"] = RecipientsPerMessage,
        ["notificationsPerSecondTarget"] = TargetNotificationsPerSecond,
        ["scheduled"] = Scheduled,
        ["sent"] = Sent,
        ["acked"] = Acked,
        ["errors"] = Errors,
        ["firstError"] = FirstError,
        ["expected"] = Expected,
        ["notifications"] = Notifications,
        ["covered"] = Covered,
        ["coveredInTime"] = CoveredInTime,
        ["inTimePercent"] = double.IsNaN(InTimePercent) ? null : Math.Round(InTimePercent, 2),
        ["collapsedNotifications"] = Collapsed,
        ["notificationsPerSecond"] = Math.Round(NotificationsPerSecond, 1),
        ["coveredPerSecond"] = Math.Round(CoveredPerSecond, 1),
        ["windowSeconds"] = Math.Round(WindowSeconds, 2),
        ["drainSeconds"] = Math.Round(Math.Max(0, DrainedUs - EndUs) / 1e6, 2),
        ["commitToPushMs"] = Push.ToJson(),
        ["oldestCommitToPushMs"] = Oldest.ToJson(),
        ["scheduleToPushMs"] = FromSchedule.ToJson(),
        ["serverCpuPercent"] = double.IsNaN(Cpu.ServerPercent) ? null : Math.Round(Cpu.ServerPercent, 1),
        ["benchCpuPercent"] = Math.Round(Cpu.BenchPercent, 1),
        ["otherProcessesCpuPercent"] = Math.Round(Cpu.OtherPercent, 1),
        ["stealCpuPercent"] = Math.Round(Cpu.StealPercent, 1),
        ["serverCpuUsPerNotification"] = double.IsNaN(ServerUsPerNotification) ? null : Math.Round(ServerUsPerNotification, 1),
        ["serverMetrics"] = ServerMetrics?.DeepClone(),
        ["serverThreadsCpuPercent"] = ServerThreads?.DeepClone(),
        ["boundMs"] = BoundWithDelayMs,
        ["sustainable"] = Sustainable(duplicates, badSignatures),
    };
}
