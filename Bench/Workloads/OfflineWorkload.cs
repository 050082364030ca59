using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// A user who was offline while M messages arrived connects and syncs: time from opening the
/// socket to holding all M. Measured with sequential pages (cursor = last userSeq of the previous
/// page), with every page requested at once (the hello's userSeq gives the range), and once more
/// after a server restart (nothing in memory).
/// </summary>
public static class OfflineWorkload
{
    private const int PageSize = 500;

    private sealed record Round(string Name, double ConnectMs, double SyncMs, int Pages, long Updates)
    {
        public double TotalMs => ConnectMs + SyncMs;
    }

    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var messages = options.OfflineMessages;
        var result = new WorkloadResult("offline", $"a user offline receives {messages} messages, then connects and syncs");
        result.Parameters["messages"] = messages;
        result.Parameters["pageSize"] = PageSize;
        result.Parameters["textBytes"] = options.TextBytes;

        await using var target = await context.StartGatewayAsync("offline", 2);
        var (sender, receiver) = (target.Accounts[0], target.Accounts[1]);
        var conversation = await target.OpenDirectAsync(sender, receiver);
        var events = new SocketEvents();
        var tracker = new ReplyTracker();

        var fill = await FillAsync(target, sender, conversation, messages, options, events, tracker);
        log.WriteLine($"  queued {messages} messages for the offline user in {fill.Elapsed.TotalSeconds:F1} s ({fill.PerSecond:F0}/s), errors {fill.Errors}");
        await Task.Delay(500); // the fan-out marks land

        var rounds = new List<Round>();
        for (var i = 1; i <= 3; i++) rounds.Add(await SyncAsync($"sequential #{i}", target, receiver, events, tracker, parallel: false));
        rounds.Add(await SyncAsync("all pages at once", target, receiver, events, tracker, parallel: true));
        if (target.Server is not null)
        {
            await target.RestartAsync(Path.Combine(BenchPaths.RunDirectory, "offline", "server-restarted.log"));
            rounds.Add(await SyncAsync("sequential, after restart", target, receiver, events, tracker, parallel: false));
        }

        var table = new TextTable("sync", "connect ms", "sync ms", "total ms", "pages", "updates", "complete");
        var json = new JsonArray();
        foreach (var r in rounds)
        {
            table.Add(r.Name, r.ConnectMs, r.SyncMs, r.TotalMs, r.Pages, r.Updates, r.Updates == messages ? "yes" : "NO");
            json.Add(new JsonObject
            {
                ["name"] = r.Name, ["connectMs"] = Math.Round(r.ConnectMs, 2), ["syncMs"] = Math.Round(r.SyncMs, 2),
                ["totalMs"] = Math.Round(r.TotalMs, 2), ["pages"] = r.Pages, ["updates"] = r.Updates, ["complete"] = r.Updates == messages,
            });
            log.WriteLine($"  {r.Name}: {r.TotalMs:F0} ms ({r.Updates} updates in {r.Pages} pages)");
        }
        result.Figures["fillSeconds"] = Math.Round(fill.Elapsed.TotalSeconds, 2);
        result.Figures["fillPerSecond"] = Math.Round(fill.PerSecond, 1);
        result.Figures["fillErrors"] = fill.Errors;
        result.Figures["rounds"] = json;
        result.Figures["syncAllMs"] = Math.Round(rounds[0].TotalMs, 2);
        result.Figures["syncAllBestMs"] = Math.Round(rounds.Take(3).Min(r => r.TotalMs), 2);
        result.Tables.Add(("connect = socket open until hello; sync = first sync request until the last page; server and load generator share the cores", table));
        result.Notes.Add($"filled at {fill.PerSecond:F0} msgs/s over one socket (pipelined, window {options.Window}): one conversation's send throughput");
        if (fill.FirstError is not null) result.Notes.Add($"fill error: {fill.FirstError}");
        foreach (var reason in events.Reasons) result.Notes.Add($"disconnect: {reason}");
        target.Describe(result);
        return [result];
    }

    internal static async Task<Pipeline.FillResult> FillAsync(GatewayTarget target, BenchAccount sender, string conversation, int count,
        BenchOptions options, SocketEvents events, ReplyTracker tracker)
    {
        var socket = await BenchSocket.ConnectAsync(target.SocketUri(sender), sender.Index, events, tracker);
        try
        {
            return await Pipeline.FillAsync(socket, tracker, conversation, count, options.Window, FrameWriter.Text(options.TextBytes), "fill");
        }
        finally
        {
            await socket.DisposeAsync();
        }
    }

    private static async Task<Round> SyncAsync(string name, GatewayTarget target, BenchAccount receiver, SocketEvents events,
        ReplyTracker tracker, bool parallel)
    {
        var opened = Clock.NowUs();
        var socket = await BenchSocket.ConnectAsync(target.SocketUri(receiver), receiver.Index, events, tracker);
        var started = Clock.NowUs();
        var pages = 0;
        long updates = 0;
        try
        {
            if (parallel)
            {
                var replies = new List<Task<Reply>>();
                for (long after = 0; after < socket.HelloUserSeq; after += PageSize)
                {
                    var id = tracker.NextId();
                    replies.Add(tracker.RequestAsync(socket, id, FrameWriter.Sync(id, after, PageSize)));
                }
                foreach (var reply in await Task.WhenAll(replies))
                {
                    pages++;
                    updates += Check(reply).Items;
                }
            }
            else
            {
                long after = 0;
                while (true)
                {
                    var id = tracker.NextId();
                    var reply = Check(await tracker.RequestAsync(socket, id, FrameWriter.Sync(id, after, PageSize)));
                    pages++;
                    updates += reply.Items;
                    if (reply.Items > 0) after = reply.LastItemSeq;
                    if (!reply.HasMore || reply.Items == 0) break;
                }
            }
            var done = Clock.NowUs();
            return new Round(name, (started - opened) / 1000.0, (done - started) / 1000.0, pages, updates);
        }
        finally
        {
            await socket.DisposeAsync();
        }
    }

    private static Reply Check(Reply reply) => reply.Type == FrameType.SyncResult ? reply
        : throw new InvalidOperationException($"sync failed: {reply.Type} {reply.ErrorCode}: {reply.ErrorMessage}");
}
