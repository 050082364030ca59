using System.Text.Json.Nodes;
using Messenger.Testing;

namespace Messenger.Bench.Hosting;

/// <summary>
/// The server's own counters from <c>GET /metrics</c> (Prometheus text), read before and after a step so a
/// report can say what the server did meanwhile: notifications by final state, webhook requests by outcome,
/// its own commit-to-push time, log appends and commits.
/// </summary>
public sealed class ServerMetrics(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Every series (name with its labels, <see cref="PrometheusText"/>) and its value; null when the server did not answer.</summary>
    public async Task<Dictionary<string, double>?> ReadAsync()
    {
        try
        {
            return PrometheusText.Parse(await _http.GetStringAsync("metrics"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>What changed between two readings, for the push path.</summary>
    public static JsonObject Delta(Dictionary<string, double> before, Dictionary<string, double> after)
    {
        var pushDurationCount = Change(before, after, "messenger_push_duration_milliseconds_count");
        var commitCount = Change(before, after, "messenger_store_commit_duration_milliseconds_count");
        return new JsonObject
        {
            ["pushNotificationsByState"] = ByLabel(before, after, "messenger_push_notifications_total", "state"),
            ["pushAttemptsByOutcome"] = ByLabel(before, after, "messenger_push_attempts_total", "outcome"),
            ["pushSent"] = pushDurationCount,
            ["pushDurationMeanMs"] = pushDurationCount == 0 ? null
                : Math.Round(Change(before, after, "messenger_push_duration_milliseconds_sum") / pushDurationCount, 2),
            ["messagesCommitted"] = Change(before, after, "messenger_messages_committed_total"),
            ["logAppends"] = Change(before, after, "messenger_messages_delivered_total"),
            ["conversationCommits"] = commitCount,
            ["conversationCommitMeanMs"] = commitCount == 0 ? null
                : Math.Round(Change(before, after, "messenger_store_commit_duration_milliseconds_sum") / commitCount, 2),
            ["errorsByCode"] = ByLabel(before, after, "messenger_errors_total", "code"),
        };
    }

    /// <summary>What the server process's runtime did between two readings (its <c>System.Runtime</c> meter).</summary>
    public static RuntimeCost Runtime(Dictionary<string, double> before, Dictionary<string, double> after) => new(
        Change(before, after, "dotnet_gc_heap_total_allocated_bytes_total"),
        Change(before, after, "dotnet_gc_collections_total"),
        Change(before, after, "dotnet_gc_pause_time_seconds_total") * 1000,
        Change(before, after, "dotnet_thread_pool_work_item_count_total"),
        Change(before, after, "dotnet_jit_compilation_time_seconds_total") * 1000);

    /// <summary>
    /// The conversations' commits between two readings (<c>messenger_store_commit_duration_milliseconds</c>: from a
    /// batch of sends handed to the store to its commit being durable, the writer's queue and <c>fsync</c> included).
    /// </summary>
    public static StoreCommits Commits(Dictionary<string, double> before, Dictionary<string, double> after)
    {
        const string name = "messenger_store_commit_duration_milliseconds";
        var quantiles = PrometheusText.Quantiles(before, after, name, 0.5, 0.99);
        return new(Change(before, after, name + "_count"), quantiles[0], quantiles[1]);
    }

    /// <summary>The change of every series of <paramref name="name"/> together.</summary>
    private static double Change(Dictionary<string, double> before, Dictionary<string, double> after, string name) =>
        PrometheusText.Sum(after, name) - PrometheusText.Sum(before, name);

    private static JsonObject ByLabel(Dictionary<string, double> before, Dictionary<string, double> after, string name, string label)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var key in after.Keys) if (PrometheusText.Name(key) == name && PrometheusText.Label(key, label) is { } v) values.Add(v);
        var json = new JsonObject();
        foreach (var value in values)
        {
            var change = PrometheusText.Sum(after, name, (label, value)) - PrometheusText.Sum(before, name, (label, value));
            if (change != 0) json[value] = change;
        }
        return json;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// What a server process's runtime did over a step: bytes allocated, garbage collections (all generations) and
/// the time they paused the process, thread-pool work items run (each a hand-off between threads or a
/// continuation queued), and the time the JIT spent compiling (a fresh server's, until its hot paths are compiled).
/// </summary>
public readonly record struct RuntimeCost(double AllocatedBytes, double Collections, double PauseMs, double WorkItems, double JitMs)
{
    /// <summary>Bytes allocated per delivered message (NaN for none delivered).</summary>
    public double BytesPer(long delivered) => delivered == 0 ? double.NaN : AllocatedBytes / delivered;

    /// <summary>Thread-pool work items per delivered message (NaN for none delivered).</summary>
    public double WorkItemsPer(long delivered) => delivered == 0 ? double.NaN : WorkItems / delivered;

    public JsonObject ToJson(long delivered) => new()
    {
        ["allocatedBytes"] = AllocatedBytes,
        ["allocatedBytesPerDelivered"] = delivered == 0 ? null : Math.Round(BytesPer(delivered)),
        ["gcCollections"] = Collections,
        ["gcPauseMs"] = Math.Round(PauseMs, 1),
        ["threadPoolWorkItems"] = WorkItems,
        ["threadPoolWorkItemsPerDelivered"] = delivered == 0 ? null : Math.Round(WorkItemsPer(delivered), 1),
        ["jitMs"] = Math.Round(JitMs, 1),
    };
}

/// <summary>
/// The conversations' commits over a step: how many, and their duration's median and 99th percentile (ms, estimated
/// from the histogram's buckets; null when there were none).
/// </summary>
public readonly record struct StoreCommits(double Count, double? P50Ms, double? P99Ms)
{
    public JsonObject ToJson() => new()
    {
        ["commits"] = Count,
        ["p50Ms"] = P50Ms is { } p50 ? Math.Round(p50, 2) : null,
        ["p99Ms"] = P99Ms is { } p99 ? Math.Round(p99, 2) : null,
    };
}
