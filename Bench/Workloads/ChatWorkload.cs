using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// N online users in 1:1 pairs, open-loop sends stepped up in rate against the real Gateway; then
/// the same load against the bare relay in the same invocation, so each chat figure is also a share
/// of what this machine can relay at all.
/// </summary>
public static class ChatWorkload
{
    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var users = options.ChatUsers;
        var result = new WorkloadResult("chat", $"{users} online users in {users / 2} 1:1 pairs, open-loop sends stepped up in rate");
        ChatSteps.AddParameters(result, options, users);

        List<ChatStep> steps;
        await using (var target = await context.StartGatewayAsync("chat", users))
        {
            var accounts = target.Accounts;
            var conversations = new string[users / 2];
            await Parallel.ForEachAsync(Enumerable.Range(0, users / 2), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (p, _) => conversations[p] = await target.OpenDirectAsync(accounts[2 * p], accounts[2 * p + 1]));
            var events = new SocketEvents();
            var load = new ChatLoad(users, options.Window, FrameWriter.Text(options.TextBytes), events);
            var sockets = await Connections.ConnectAsync(0, users, i => target.SocketUri(accounts[i]), events, null);
            for (var i = 0; i < users; i++) load.Attach(i, sockets[i], conversations[i / 2], i ^ 1);
            log.WriteLine($"  {users} users connected, {users / 2} conversations open");

            using var metrics = target.Server is null ? null : new ServerMetrics(target.BaseAddress);
            steps = await ChatSteps.RunAsync(load, options.Rates, options, target.Pids, log, "chat", metrics);
            await BenchSocket.CloseAllAsync(sockets);
            target.Describe(result);
            foreach (var reason in events.Reasons) result.Notes.Add($"disconnect: {reason}");
        }

        var results = new List<WorkloadResult> { result };
        RelayWorkload.Outcome? relay = null;
        if (options.Relay)
        {
            relay = await RelayWorkload.RunAsync(context);
            results.Add(relay.Result);
        }

        var sustainable = ChatSteps.Sustainable(steps);
        var at1000 = steps.FirstOrDefault(s => s.TargetRate == 1000);
        result.Figures["steps"] = ChatSteps.ToJson(steps);
        result.Figures["sustainableTargetPerSecond"] = sustainable?.TargetRate;
        result.Figures["sustainableDeliveredPerSecond"] = sustainable is null ? null : Math.Round(sustainable.DeliveredPerSecond, 1);
        result.Figures["p50MsAt1000"] = at1000 is null ? null : Math.Round(at1000.Delivery.Ms(50), 3);
        result.Figures["p99MsAt1000"] = at1000 is null ? null : Math.Round(at1000.P99Ms, 3);
        result.Figures["p50MsFromWriteAt1000"] = at1000 is null ? null : Math.Round(at1000.DeliveryFromWrite.Ms(50), 3);
        result.Figures["p99MsFromWriteAt1000"] = at1000 is null ? null : Math.Round(at1000.DeliveryFromWrite.Ms(99), 3);
        result.Figures["relaySustainableDeliveredPerSecond"] = relay?.Limit is { } l ? Math.Round(l, 1) : null;
        result.Figures["percentOfRelayAtSustainable"] = sustainable is not null && relay?.Limit is > 0
            ? Math.Round(100 * sustainable.DeliveredPerSecond / relay.Limit.Value, 1) : null;
        result.Tables.Add((ChatSteps.TableCaption, ChatSteps.Table(steps, relay?.Limit)));
        result.Notes.Insert(0, sustainable is null
            ? "no step was sustainable (p99 < 100 ms with nothing lost)"
            : $"sustainable: {sustainable.DeliveredPerSecond:F0} delivered msgs/s (step {sustainable.TargetRate:F0}/s, p99 {sustainable.P99Ms:F1} ms)"
              + (relay?.Limit is > 0 ? $" = {100 * sustainable.DeliveredPerSecond / relay.Limit.Value:F0}% of the relay's {relay.Limit.Value:F0}/s" : ""));
        if (relay is { Steps.Count: > 0 } && !relay.Steps[^1].ClearlyFailed)
        {
            result.Notes.Add("the relay never failed at the rates tried: its limit is higher, so '% relay' figures are upper bounds");
        }
        return results;
    }
}
