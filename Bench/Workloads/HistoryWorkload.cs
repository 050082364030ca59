using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// Pages of 50 from one long conversation (filled fast with pipelined sends): a reader walking back
/// from the newest page one request at a time (pure latency), pages picked at random across the
/// whole history with requests in flight on two sockets (throughput from the store), and the newest
/// page under the same concurrency (served from the conversation's in-memory recent messages).
/// </summary>
public static class HistoryWorkload
{
    private const int PageSize = 50;
    private const int InFlightPerSocket = 8;

    private sealed record Mode(string Name, Latency Latency, long Pages, long Messages, long Errors, double Seconds, int InFlight)
    {
        public double PagesPerSecond => Pages / Seconds;
    }

    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var length = options.HistoryMessages;
        var result = new WorkloadResult("history", $"pages of {PageSize} from a {length}-message conversation");
        result.Parameters["messages"] = length;
        result.Parameters["pageSize"] = PageSize;
        result.Parameters["secondsPerMode"] = options.HistoryDuration.TotalSeconds;
        result.Parameters["inFlightPerSocket"] = InFlightPerSocket;

        await using var target = await context.StartGatewayAsync("history", 2);
        var (a, b) = (target.Accounts[0], target.Accounts[1]);
        var conversation = await target.OpenDirectAsync(a, b);
        var events = new SocketEvents();
        var tracker = new ReplyTracker();
        var fill = await OfflineWorkload.FillAsync(target, a, conversation, length, options, events, tracker);
        log.WriteLine($"  filled {length} messages in {fill.Elapsed.TotalSeconds:F1} s ({fill.PerSecond:F0}/s), errors {fill.Errors}");

        var readers = await Connections.ConnectAsync(0, 2, i => target.SocketUri(target.Accounts[i]), events, tracker);
        var lastSeq = (long)length;
        var modes = new List<Mode>();
        try
        {
            var cursor = lastSeq + 1;
            modes.Add(await MeasureAsync("walk back from newest", readers[..1], 1, options.HistoryDuration, tracker, conversation, reply =>
            {
                cursor = reply.HasMore && reply.Items > 0 ? reply.FirstItemSeq : lastSeq + 1;
            }, () => cursor));
            modes.Add(await MeasureAsync("random pages", readers, InFlightPerSocket, options.HistoryDuration, tracker, conversation, null,
                () => Random.Shared.NextInt64(PageSize + 1, lastSeq + 2)));
            modes.Add(await MeasureAsync("newest page", readers, InFlightPerSocket, options.HistoryDuration, tracker, conversation, null,
                () => lastSeq + 1));
        }
        finally
        {
            await BenchSocket.CloseAllAsync(readers);
        }

        var table = new TextTable("mode", "in flight", "pages/s", "msgs/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
        var json = new JsonArray();
        foreach (var m in modes)
        {
            table.Add(m.Name, m.InFlight, m.PagesPerSecond, m.Messages / m.Seconds, m.Latency.Ms(50), m.Latency.Ms(99), m.Latency.Ms(99.9),
                m.Latency.MaxMs, m.Errors);
            json.Add(new JsonObject
            {
                ["mode"] = m.Name, ["inFlight"] = m.InFlight, ["pages"] = m.Pages, ["pagesPerSecond"] = Math.Round(m.PagesPerSecond, 1),
                ["messagesPerSecond"] = Math.Round(m.Messages / m.Seconds, 1), ["latencyMs"] = m.Latency.ToJson(), ["errors"] = m.Errors,
            });
            log.WriteLine($"  {m.Name}: {m.PagesPerSecond:F0} pages/s, p50 {m.Latency.Ms(50):F2} ms, p99 {m.Latency.Ms(99):F2} ms");
        }
        result.Figures["fillSeconds"] = Math.Round(fill.Elapsed.TotalSeconds, 2);
        result.Figures["fillPerSecond"] = Math.Round(fill.PerSecond, 1);
        result.Figures["fillErrors"] = fill.Errors;
        result.Figures["modes"] = json;
        result.Tables.Add(("latency = history request written until its result is read; server and load generator share the cores", table));
        result.Notes.Add($"filled at {fill.PerSecond:F0} msgs/s over one socket (pipelined, window {options.Window})");
        if (fill.FirstError is not null) result.Notes.Add($"fill error: {fill.FirstError}");
        foreach (var reason in events.Reasons) result.Notes.Add($"disconnect: {reason}");
        target.Describe(result);
        return [result];
    }

    /// <summary>Closed loop: <paramref name="inFlight"/> requests outstanding per socket for <paramref name="duration"/>.</summary>
    private static async Task<Mode> MeasureAsync(string name, BenchSocket[] sockets, int inFlight, TimeSpan duration, ReplyTracker tracker,
        string conversation, Action<Reply>? onReply, Func<long> before)
    {
        var latency = new Latency();
        long pages = 0, messages = 0, errors = 0;
        var started = Clock.NowUs();
        var deadline = started + (long)duration.TotalMicroseconds;
        var workers = new List<Task>();
        foreach (var socket in sockets)
        {
            for (var w = 0; w < inFlight; w++)
            {
                workers.Add(Task.Run(async () =>
                {
                    while (Clock.NowUs() < deadline)
                    {
                        var id = tracker.NextId();
                        var sent = Clock.NowUs();
                        var reply = await tracker.RequestAsync(socket, id, FrameWriter.History(id, conversation, before(), PageSize));
                        latency.Record(reply.ReceivedUs - sent);
                        if (reply.Type != FrameType.HistoryResult)
                        {
                            Interlocked.Increment(ref errors);
                            continue;
                        }
                        Interlocked.Increment(ref pages);
                        Interlocked.Add(ref messages, reply.Items);
                        onReply?.Invoke(reply);
                    }
                }));
            }
        }
        await Task.WhenAll(workers);
        var seconds = (Clock.NowUs() - started) / 1e6;
        return new Mode(name, latency, pages, messages, errors, seconds, inFlight * sockets.Length);
    }
}
