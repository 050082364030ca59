using System.Text;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// One popular user watched by W online users (each shares a conversation with them and subscribed to
/// their presence) goes online and offline T times. Per change: how long until every watcher holds
/// the push, the latency per watcher, and the deliveries per second. The server runs with zero settle
/// and grace delays, so what is measured is the broadcast, not the debounce.
/// </summary>
public static class PresenceWorkload
{
    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var watchers = options.PresenceWatchers;
        var toggles = options.PresenceToggles;
        var result = new WorkloadResult("presence", $"a user watched by {watchers} online users goes online and offline {toggles} times");
        result.Parameters["watchers"] = watchers;
        result.Parameters["toggles"] = toggles;

        ServerProcess.GatewayEnvironment["Presence__OnlineSettle"] = "00:00:00";
        ServerProcess.GatewayEnvironment["Presence__OfflineGrace"] = "00:00:00";
        GatewayTarget target;
        try
        {
            target = await context.StartGatewayAsync("presence", watchers + 1);
        }
        finally
        {
            ServerProcess.GatewayEnvironment.Remove("Presence__OnlineSettle");
            ServerProcess.GatewayEnvironment.Remove("Presence__OfflineGrace");
        }
        await using var _ = target;
        var popular = target.Accounts[0];
        await Parallel.ForEachAsync(Enumerable.Range(1, watchers), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, _) => await target.OpenDirectAsync(target.Accounts[i], popular));

        var events = new SocketEvents();
        var handler = new PresenceCounter(watchers);
        var sockets = await Connections.ConnectAsync(1, watchers + 1, i => target.SocketUri(target.Accounts[i]), events, handler);
        var subscribe = Encoding.UTF8.GetBytes($$"""{"type":"presence_subscribe","id":"s","userIds":["{{popular.UserId}}"]}""");
        handler.Expect(PresenceCounter.Kind.Subscribed, Clock.NowUs());
        foreach (var socket in sockets) await socket.SendAsync(subscribe);
        await handler.AllArrived.WaitAsync(TimeSpan.FromSeconds(60));
        log.WriteLine($"  {watchers} watchers connected and subscribed");

        var latency = new Latency();
        var fanOutMs = new List<double>();
        var started = Clock.NowUs();
        for (var t = 0; t < toggles; t++)
        {
            handler.Expect(PresenceCounter.Kind.Online, Clock.NowUs(), latency);
            var device = await BenchSocket.ConnectAsync(target.SocketUri(popular), 0, events, null);
            fanOutMs.Add(await handler.AllArrived.WaitAsync(TimeSpan.FromSeconds(60)) / 1000.0);
            handler.Expect(PresenceCounter.Kind.Offline, Clock.NowUs(), latency);
            await device.DisposeAsync();
            fanOutMs.Add(await handler.AllArrived.WaitAsync(TimeSpan.FromSeconds(60)) / 1000.0);
        }
        var elapsedS = (Clock.NowUs() - started) / 1e6;
        var changes = toggles * 2;
        var deliveries = (long)changes * watchers;
        fanOutMs.Sort();

        var table = new TextTable("changes", "deliveries", "deliveries/s", "p50 ms", "p99 ms", "max ms", "all watchers told, p50 ms", "max ms");
        table.Add(changes, deliveries, deliveries / elapsedS, latency.Ms(50), latency.Ms(99), latency.Ms(100),
            fanOutMs[fanOutMs.Count / 2], fanOutMs[^1]);
        result.Tables.Add(("latency = from the popular user's connect/close to a watcher reading the push; server and load generator share the cores", table));
        result.Figures["changes"] = changes;
        result.Figures["deliveries"] = deliveries;
        result.Figures["deliveriesPerSecond"] = Math.Round(deliveries / elapsedS, 1);
        result.Figures["latencyP50Ms"] = Math.Round(latency.Ms(50), 3);
        result.Figures["latencyP99Ms"] = Math.Round(latency.Ms(99), 3);
        result.Figures["latencyMaxMs"] = Math.Round(latency.Ms(100), 3);
        result.Figures["allToldP50Ms"] = Math.Round(fanOutMs[fanOutMs.Count / 2], 3);
        result.Figures["allToldMaxMs"] = Math.Round(fanOutMs[^1], 3);
        result.Figures["duplicates"] = handler.Duplicates;
        result.Figures["disconnects"] = events.UnexpectedCloses;
        result.Notes.Add("the whole sequence includes each online change's WebSocket handshake; every change reaches the gateway as one grain call, fanned out there to its watching sockets");
        foreach (var reason in events.Reasons) result.Notes.Add($"disconnect: {reason}");
        await BenchSocket.CloseAllAsync(sockets);
        target.Describe(result);
        return [result];
    }

    /// <summary>Counts the expected frame on every watcher socket and completes when all have it.</summary>
    private sealed class PresenceCounter(int watchers) : IFrameHandler
    {
        public enum Kind { Subscribed, Online, Offline }

        private static readonly byte[] PresenceResult = "\"type\":\"presence_result\""u8.ToArray();
        private static readonly byte[] Presence = "\"type\":\"presence\""u8.ToArray();
        private static readonly byte[] Online = "\"online\":true"u8.ToArray();
        private readonly bool[] _seen = new bool[watchers + 1];
        private Kind _kind;
        private long _startUs;
        private int _count;
        private Latency? _latency;
        private TaskCompletionSource<long> _all = new();
        private int _duplicates;

        public Task<long> AllArrived => _all.Task;
        public int Duplicates => Volatile.Read(ref _duplicates);

        public void Expect(Kind kind, long startUs, Latency? latency = null)
        {
            lock (_seen)
            {
                Array.Clear(_seen);
                _kind = kind;
                _startUs = startUs;
                _latency = latency;
                _count = 0;
                _all = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs)
        {
            var matches = _kind == Kind.Subscribed
                ? frame.IndexOf(PresenceResult) >= 0
                : frame.IndexOf(Presence) >= 0 && (frame.IndexOf(Online) >= 0) == (_kind == Kind.Online);
            if (!matches) return;
            lock (_seen)
            {
                if (_seen[socket.Index])
                {
                    _duplicates++;
                    return;
                }
                _seen[socket.Index] = true;
                _latency?.Record(receivedUs - _startUs);
                if (++_count == watchers) _all.TrySetResult(receivedUs - _startUs);
            }
        }
    }
}
