using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Messenger.Grains.Support;

/// <summary>
/// The messenger's own metrics (meter <see cref="MeterName"/>), exported at <c>/metrics</c> by gateways
/// and silos. Silo side: messages committed and delivered, and how long a commit takes; gateway side:
/// open sockets, the send-to-ack time, the commit-to-socket delivery time, and errors by code.
/// </summary>
public static class MessengerMetrics
{
    public const string MeterName = "Messenger";

    /// <summary>
    /// The meters a gateway and a silo export: ours, Orleans', and the .NET runtime's (<c>System.Runtime</c>:
    /// garbage collections and their pauses, bytes allocated, the thread pool's work items and queue, lock
    /// contention, CPU time), which say what a process spends on its work.
    /// </summary>
    public static readonly string[] ExportedMeters = [MeterName, "Microsoft.Orleans", "System.Runtime"];

    /// <summary>
    /// The most tag combinations one exported metric keeps (OpenTelemetry's default is 2,000, and it reserves
    /// room for all of them up front in every metric: about 15 MB for the ~100 metrics here). Ours and
    /// Orleans' have a few dozen at most (error codes, grain types); more would be reported as overflow.
    /// </summary>
    public const int CardinalityLimit = 200;

    /// <summary>What a gateway and a silo export, the same way: <see cref="ExportedMeters"/>, each metric capped at <see cref="CardinalityLimit"/>.</summary>
    public static MeterProviderBuilder AddMessengerMetrics(this MeterProviderBuilder metrics) => metrics
        .AddMeter(ExportedMeters)
        .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = CardinalityLimit });

    private static readonly Meter Meter = new(MeterName);

    /// <summary>
    /// The bucket bounds (ms) of the latency histograms: fine below 10 ms, where a commit's <c>fsync</c> and an everyday
    /// delivery lie, so a percentile read from the buckets (the bench's commit p50 and p99) means something there;
    /// OpenTelemetry's default bounds start at 5 ms.
    /// </summary>
    private static readonly IReadOnlyList<double> LatencyBucketsMs =
        [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000, 10000];

    private static Histogram<double> Latency(string name, string description) =>
        Meter.CreateHistogram(name, "ms", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });

    /// <summary>Messages committed to conversation logs (duplicates not counted).</summary>
    public static readonly Counter<long> Committed = Meter.CreateCounter<long>("messenger.messages.committed", "{message}", "Messages committed to conversation logs");

    /// <summary>Messages appended to users' update logs (one per member and message).</summary>
    public static readonly Counter<long> Delivered = Meter.CreateCounter<long>("messenger.messages.delivered", "{message}", "Messages appended to members' update logs");

    /// <summary>
    /// Receipts updates appended to senders' update logs, by how they went (tag <c>by</c>: <c>delivery</c>, carried by a
    /// delivery of new messages of the conversation; <c>flush</c>, on their own).
    /// </summary>
    public static readonly Counter<long> ReceiptUpdates = Meter.CreateCounter<long>("messenger.receipts.updates", "{update}", "Receipts updates appended to senders' update logs, by how they went");

    /// <summary>The tag of a receipts update carried by a delivery.</summary>
    public static readonly KeyValuePair<string, object?> ByDelivery = new("by", "delivery");

    /// <summary>The tag of a receipts update sent on its own.</summary>
    public static readonly KeyValuePair<string, object?> ByFlush = new("by", "flush");

    /// <summary>Time to commit one batch to a conversation log.</summary>
    public static readonly Histogram<double> CommitDuration = Latency("messenger.store.commit.duration", "Time to commit a batch of messages to a conversation log");

    /// <summary>Open client sockets on a gateway.</summary>
    public static readonly UpDownCounter<long> Sockets = Meter.CreateUpDownCounter<long>("messenger.gateway.sockets", "{socket}", "Open client sockets");

    /// <summary>Time from a send reaching the gateway to its ack.</summary>
    public static readonly Histogram<double> AckDuration = Latency("messenger.send.ack.duration", "Time from a send reaching the gateway to its ack");

    /// <summary>
    /// Time from a message's commit (its <c>sentAt</c>, the silo's clock) to its frame being queued on a
    /// recipient's sockets at the gateway (the gateway's clock), once per recipient user and message.
    /// </summary>
    public static readonly Histogram<double> DeliveryDuration = Latency("messenger.delivery.duration", "Time from a message's commit to its frame being queued on a recipient's sockets");

    /// <summary>Notifications that reached a final state, by state (tag <c>state</c>: sent, delivered, read, muted, collapsed, failed, no_subscription).</summary>
    public static readonly Counter<long> PushNotifications = Meter.CreateCounter<long>("messenger.push.notifications", "{notification}", "Notifications per message and user that reached a final state, by state");

    /// <summary>Requests to push services and webhooks, by outcome (tag <c>outcome</c>: sent, retry, gone, rejected).</summary>
    public static readonly Counter<long> PushAttempts = Meter.CreateCounter<long>("messenger.push.attempts", "{request}", "Requests to push services and webhooks, by outcome");

    /// <summary>Time from a message's commit to a push service or webhook taking its notification.</summary>
    public static readonly Histogram<double> PushDuration = Latency("messenger.push.duration", "Time from a message's commit to a push service or webhook taking its notification");

    /// <summary>Push subscriptions removed because their service answered 404 or 410.</summary>
    public static readonly Counter<long> PushSubscriptionsRemoved = Meter.CreateCounter<long>("messenger.push.subscriptions.removed", "{subscription}", "Push subscriptions removed because their service said they are gone");

    /// <summary>Errors answered to clients, by code (tag <c>code</c>).</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("messenger.errors", "{error}", "Errors answered to clients, by code");

    /// <summary>Times the process returned its spare memory to the operating system after going quiet (<see cref="MemoryTrimmer"/>).</summary>
    public static readonly Counter<long> MemoryTrims = Meter.CreateCounter<long>("messenger.memory.trims", "{trim}", "Times the process returned spare memory to the operating system after going quiet");

    /// <summary>Resident memory those trims gave back.</summary>
    public static readonly Counter<long> MemoryTrimmed = Meter.CreateCounter<long>("messenger.memory.trimmed", "By", "Resident memory returned to the operating system by trims");

    /// <summary>Early collections of the young generations in a process that allocates slowly (<see cref="QuietCollectionPolicy"/>).</summary>
    public static readonly Counter<long> MemoryQuietCollections = Meter.CreateCounter<long>("messenger.memory.quiet_collections", "{collection}", "Early collections of the young generations in a process that allocates slowly");
}
