using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// Authenticated connections that only stay open: connect rate, and the server's resident memory
/// growth per connection (VmRSS before and after, read once right after connecting and again after a
/// settle period, since the GC returns memory lazily). The resident set is also sampled every second
/// through the second half of the settle, and its lowest and highest values are shown beside the
/// final read: an idle server still allocates (its lease renewals), so its memory moves, and one read
/// alone cannot tell a low point from the level it holds. Counts are cumulative on one server.
/// </summary>
public static class IdleWorkload
{
    private const int PingSample = 200;

    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var counts = options.IdleCounts.Order().ToArray();
        var result = new WorkloadResult("idle", $"authenticated WebSocket connections held idle, up to {counts[^1]}");
        result.Parameters["counts"] = string.Join(",", counts);
        result.Parameters["settleSeconds"] = options.Settle.TotalSeconds;
        var baselineSettle = options.BaselineSettle ?? options.Settle;
        result.Parameters["baselineSettleSeconds"] = baselineSettle.TotalSeconds;
        result.Parameters["connectConcurrency"] = 64;

        await using var target = await context.StartGatewayAsync("idle", counts[^1]);
        var accounts = target.Accounts;
        var events = new SocketEvents();
        var tracker = new ReplyTracker();

        // Warm the connect path (JIT, pools) on a few users, so the baseline is a running server.
        var warm = Math.Min(20, counts[0]);
        await BenchSocket.CloseAllAsync(await Connections.ConnectAsync(0, warm, i => target.SocketUri(accounts[i]), events, tracker));
        await Task.Delay(baselineSettle);
        var baseline = Rss(target);
        log.WriteLine($"  baseline RSS {baseline / 1024.0:F1} MiB");

        var table = new TextTable("connections", "connect/s", "RSS now MiB", "RSS settled MiB", "settling low-high MiB", "KiB/conn now",
            "KiB/conn settled", "KiB/conn high", "marginal KiB/conn", "ping p50 ms", "ping p99 ms", "dropped");
        var rows = new System.Text.Json.Nodes.JsonArray();
        var sockets = new List<BenchSocket>();
        var previous = (Count: 0, Rss: baseline);
        double kibPerConnection = double.NaN, kibPerConnectionHigh = double.NaN;
        try
        {
            foreach (var count in counts)
            {
                var started = Clock.NowUs();
                sockets.AddRange(await Connections.ConnectAsync(sockets.Count, count, i => target.SocketUri(accounts[i]), events, tracker, 64));
                var seconds = (Clock.NowUs() - started) / 1e6;
                var added = count - previous.Count;
                var rssNow = Rss(target);
                var (low, high, rssSettled) = await SettleAsync(target, options.Settle);
                var ping = await PingAsync(sockets, tracker);
                var perNow = (rssNow - baseline) / (double)count;
                kibPerConnection = (rssSettled - baseline) / (double)count;
                var perHigh = kibPerConnectionHigh = (high - baseline) / (double)count;
                var marginal = (rssSettled - previous.Rss) / (double)Math.Max(added, 1);
                table.Add(count, added / seconds, rssNow / 1024.0, rssSettled / 1024.0, $"{low / 1024.0:F1}-{high / 1024.0:F1}", perNow,
                    kibPerConnection, perHigh, marginal, ping.Ms(50), ping.Ms(99), events.UnexpectedCloses);
                rows.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["connections"] = count,
                    ["connectPerSecond"] = Math.Round(added / seconds, 1),
                    ["rssBaselineKiB"] = baseline,
                    ["rssAfterConnectKiB"] = rssNow,
                    ["rssSettledKiB"] = rssSettled,
                    ["rssSettlingLowKiB"] = low,
                    ["rssSettlingHighKiB"] = high,
                    ["kibPerConnectionSettlingHigh"] = Math.Round(perHigh, 2),
                    ["kibPerConnectionAfterConnect"] = Math.Round(perNow, 2),
                    ["kibPerConnectionSettled"] = Math.Round(kibPerConnection, 2),
                    ["marginalKibPerConnection"] = Math.Round(marginal, 2),
                    ["pingMs"] = ping.ToJson(),
                    ["unexpectedCloses"] = events.UnexpectedCloses,
                });
                log.WriteLine($"  {count} connections: {added / seconds:F0} connects/s, RSS {rssSettled / 1024.0:F1} MiB settled " +
                              $"({low / 1024.0:F1}-{high / 1024.0:F1} through the settle's second half), {kibPerConnection:F1} KiB/conn, dropped {events.UnexpectedCloses}");
                previous = (count, rssSettled);
            }
        }
        finally
        {
            await BenchSocket.CloseAllAsync(sockets);
        }

        result.Figures["rows"] = rows;
        result.Figures["connections"] = counts[^1];
        result.Figures["kibPerConnection"] = double.IsNaN(kibPerConnection) ? null : Math.Round(kibPerConnection, 2);
        result.Figures["kibPerConnectionHigh"] = double.IsNaN(kibPerConnectionHigh) ? null : Math.Round(kibPerConnectionHigh, 2);
        if (counts.Length >= 2)
        {
            // What one more connection costs, between the two highest counts: the first thousands also bring what more
            // do not (the JIT's code for the connection path, thread stacks, the collector's bookkeeping).
            result.Figures["marginalFrom"] = counts[^2];
            result.Figures["marginalKibPerConnection"] = rows[^1]!["marginalKibPerConnection"]!.GetValue<double>();
        }
        result.Figures["unexpectedCloses"] = events.UnexpectedCloses;
        result.Tables.Add(("RSS = the server's VmRSS; per connection = (RSS - baseline) / connections; ping = round trip on up to " +
                           $"{PingSample} of the sockets; server and load generator share the cores", table));
        foreach (var reason in events.Reasons) result.Notes.Add($"disconnect: {reason}");
        if (target.Pids is null) result.Notes.Add("no server process id (--url without --pid): no RSS figures");
        target.Describe(result);
        return [result];
    }

    private static long Rss(GatewayTarget target) => target.Pids is { } pids ? ProcStats.RssKiB(pids) : 0;

    /// <summary>
    /// Waits out the settle, reading the resident set every second through its second half; returns the lowest and
    /// highest read, and the last (at the settle's end).
    /// </summary>
    private static async Task<(long Low, long High, long Last)> SettleAsync(GatewayTarget target, TimeSpan settle)
    {
        await Task.Delay(settle / 2);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (low, high) = (long.MaxValue, long.MinValue);
        while (true)
        {
            var rss = Rss(target);
            (low, high) = (Math.Min(low, rss), Math.Max(high, rss));
            var left = settle / 2 - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return (low, high, rss);
            await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>A ping round trip on a sample of the sockets, all at once: is the server still responsive with them all open?</summary>
    private static async Task<Latency> PingAsync(List<BenchSocket> sockets, ReplyTracker tracker)
    {
        var latency = new Latency();
        var step = Math.Max(1, sockets.Count / PingSample);
        var pings = new List<Task>();
        for (var i = 0; i < sockets.Count; i += step)
        {
            var socket = sockets[i];
            pings.Add(Task.Run(async () =>
            {
                var id = tracker.NextId();
                var sent = Clock.NowUs();
                var reply = await tracker.RequestAsync(socket, id, FrameWriter.Ping(id), TimeSpan.FromSeconds(30));
                latency.Record(reply.ReceivedUs - sent);
            }));
        }
        await Task.WhenAll(pings);
        return latency;
    }
}
