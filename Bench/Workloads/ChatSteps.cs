using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>Steps a <see cref="ChatLoad"/> up through rates and turns the steps into tables and figures (shared by chat and relay).</summary>
internal static class ChatSteps
{
    /// <summary>
    /// A warm-up (not reported), then each rate in turn; stops after the first step that clearly fails. With
    /// <paramref name="metrics"/> (one server process), each step also records what the server's runtime did.
    /// </summary>
    public static async Task<List<ChatStep>> RunAsync(ChatLoad load, IEnumerable<double> rates, BenchOptions options, IReadOnlyList<int>? serverPids,
        TextWriter log, string label, ServerMetrics? metrics = null)
    {
        var warmRate = Math.Min(500, rates.First());
        var warm = await RunStepAsync(load, warmRate, options.Warmup, warmup: true, serverPids, metrics);
        log.WriteLine($"  {label} warm-up {warmRate:F0}/s: {Describe(warm)}");
        var steps = new List<ChatStep>();
        foreach (var rate in rates)
        {
            var step = await RunStepAsync(load, rate, options.StepDuration, warmup: false, serverPids, metrics);
            steps.Add(step);
            log.WriteLine($"  {label} {rate:F0}/s: {Describe(step)}");
            if (step.ClearlyFailed)
            {
                log.WriteLine($"  {label}: step {rate:F0}/s clearly failed; not stepping higher");
                break;
            }
            await Task.Delay(options.Quick ? 200 : 1000);
        }
        return steps;
    }

    private static async Task<ChatStep> RunStepAsync(ChatLoad load, double rate, TimeSpan duration, bool warmup, IReadOnlyList<int>? serverPids, ServerMetrics? metrics)
    {
        var before = metrics is null ? null : await metrics.ReadAsync();
        var step = await load.RunStepAsync(rate, duration, warmup, serverPids);
        if (before is not null && await metrics!.ReadAsync() is { } after)
        {
            step.Runtime = ServerMetrics.Runtime(before, after);
            step.Commits = ServerMetrics.Commits(before, after);
        }
        return step;
    }

    public static string Describe(ChatStep s) =>
        $"delivered {s.DeliveredPerSecond:F0}/s, p50 {s.Delivery.Ms(50):F2} ms, p99 {s.P99Ms:F2} ms, max {s.Delivery.MaxMs:F1} ms, " +
        $"lost {s.Lost}, unacked {s.Unacked}, unsent {s.Unsent}, dup {s.Duplicates}, ooo {s.OutOfOrder}, errors {s.Errors}, " +
        $"disconnects {s.Disconnects}, {s.Cpu.Describe()}{DescribeRuntime(s)}; {s.Slow.Describe(ChatStep.SlowMs)}";

    private static string DescribeRuntime(ChatStep s) => s.Runtime is not { } r || s.Delivered == 0 ? "" :
        $", server allocated {r.BytesPer(s.Delivered) / 1024:F1} KiB and ran {r.WorkItemsPer(s.Delivered):F1} thread-pool items per message, " +
        $"{r.Collections:F0} GCs pausing {r.PauseMs:F0} ms, JIT {r.JitMs:F0} ms";

    /// <summary>The highest step that is sustainable (p99 &lt; 100 ms, nothing lost), if any.</summary>
    public static ChatStep? Sustainable(IReadOnlyList<ChatStep> steps) =>
        steps.Where(s => s.Sustainable).OrderByDescending(s => s.TargetRate).FirstOrDefault();

    /// <summary>
    /// The table: latencies in ms, end to end from the scheduled send time; CPU as % of one core
    /// (200% = both cores), server and load generator sharing the cores.
    /// </summary>
    public static TextTable Table(IReadOnlyList<ChatStep> steps, double? relayLimit)
    {
        var table = new TextTable("target/s", "delivered/s", "p50", "p99", "p99.9", "max", "p99 write", "ack p50", "ack p99",
            "commit p50", "commit p99", "lost", "unacked", "dup", "ooo", "disc", "srv CPU%", "gen CPU%", "other CPU%", "steal%", "srv us/msg", "KiB/msg", "items/msg", "GCs", "GC ms", "JIT ms", "flush/s", "flush/msg", "disk KiB/msg", "% relay", "ok");
        foreach (var s in steps)
        {
            table.Add(s.TargetRate, s.DeliveredPerSecond, s.Delivery.Ms(50), s.P99Ms, s.Delivery.Ms(99.9), s.Delivery.MaxMs,
                s.DeliveryFromWrite.Ms(99), s.Ack.Ms(50), s.Ack.Ms(99),
                s.Commits?.P50Ms ?? double.NaN, s.Commits?.P99Ms ?? double.NaN, s.Lost, s.Unacked + s.Unsent, s.Duplicates, s.OutOfOrder,
                s.Disconnects, s.Cpu.ServerPercent, s.Cpu.BenchPercent, s.Cpu.OtherPercent, s.Cpu.StealPercent,
                s.Delivered == 0 ? double.NaN : s.Cpu.ServerSeconds * 1e6 / s.Delivered,
                s.Runtime?.BytesPer(s.Delivered) / 1024 ?? double.NaN, s.Runtime?.WorkItemsPer(s.Delivered) ?? double.NaN,
                s.Runtime?.Collections ?? double.NaN, s.Runtime?.PauseMs ?? double.NaN, s.Runtime?.JitMs ?? double.NaN, s.FlushesPerSecond,
                s.Delivered == 0 ? double.NaN : (double)s.Disk.Flushes / s.Delivered,
                s.Delivered == 0 ? double.NaN : s.Disk.BytesWritten / 1024.0 / s.Delivered,
                relayLimit is > 0 ? 100 * s.DeliveredPerSecond / relayLimit.Value : double.NaN,
                s.Sustainable ? "yes" : "no");
        }
        return table;
    }

    public static JsonArray ToJson(IEnumerable<ChatStep> steps) => new(steps.Select(s => (JsonNode)s.ToJson()).ToArray());

    public static void AddParameters(WorkloadResult result, BenchOptions options, int users)
    {
        result.Parameters["users"] = users;
        result.Parameters["pairs"] = users / 2;
        result.Parameters["stepSeconds"] = options.StepDuration.TotalSeconds;
        result.Parameters["warmupSeconds"] = options.Warmup.TotalSeconds;
        result.Parameters["windowPerSocket"] = options.Window;
        result.Parameters["textBytes"] = options.TextBytes;
        result.Parameters["latencyOrigin"] = "scheduled send time (open loop); p99 write = from just before the frame was written";
        result.Parameters["sustainable"] = $"p99 < {ChatStep.SustainableP99Ms} ms, nothing lost/unacked/unsent, no disconnects, delivered >= 95% of target";
    }

    public static string TableCaption =>
        "latency ms, end to end (send scheduled -> receiving device reads the push); commit p50/p99 = the server's conversation commits (a batch of sends handed to its store until durable: the writer's queue, its transaction and its fsync), read from its histogram's buckets; flush/s = disk flush requests (machine-wide: the store's fsyncs, one or two each depending on the file system), flush/msg = the same per delivered message; disk KiB/msg = bytes the disks wrote per delivered message (machine-wide: the store's WAL, its checkpoints and the file system's journal); CPU in % of one core " +
        $"({Environment.ProcessorCount * 100}% = all {Environment.ProcessorCount} cores, shared by the server and the load generator); steal% = time the hypervisor gave " +
        "the cores to other machines (/proc/stat); KiB/msg and items/msg = bytes the server allocated and thread-pool work items it ran per delivered message, " +
        "GCs and GC ms = its garbage collections and their pauses over the step, JIT ms = the time its JIT spent compiling in the step (its System.Runtime metrics; a standalone server only)";
}
