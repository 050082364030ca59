using System.Globalization;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// The machine's limit: the chat load against the bench's bare relay (Relay/RelayServer.cs), a
/// separate process that forwards frames with no storage and no Orleans. It keeps stepping past
/// the chat rates until it fails, so the chat figures can be read as a share of it.
/// </summary>
public static class RelayWorkload
{
    public sealed record Outcome(WorkloadResult Result, IReadOnlyList<ChatStep> Steps, double? Limit);

    public static async Task<Outcome> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var log = context.Log;
        var users = options.ChatUsers;
        var result = new WorkloadResult("relay", $"{users} users in 1:1 pairs against the bare relay (no storage, no Orleans): this machine's limit");
        ChatSteps.AddParameters(result, options, users);
        var directory = Path.Combine(BenchPaths.RunDirectory, "relay");
        await using var relay = await ServerProcess.StartRelayAsync(Path.Combine(directory, "relay.log"));
        log.WriteLine($"  server: relay pid {relay.Pid} at {relay.BaseAddress}");
        var events = new SocketEvents();
        var load = new ChatLoad(users, options.Window, FrameWriter.Text(options.TextBytes), events);
        var sockets = await Connections.ConnectAsync(0, users,
            i => new Uri($"ws://{relay.BaseAddress.Authority}/v1/ws?user={i.ToString(CultureInfo.InvariantCulture)}"), events, null);
        for (var i = 0; i < users; i++) load.Attach(i, sockets[i], (i ^ 1).ToString(CultureInfo.InvariantCulture), i ^ 1);

        var steps = await ChatSteps.RunAsync(load, options.Rates.Concat(options.RelayExtraRates), options, [relay.Pid], log, "relay");
        await BenchSocket.CloseAllAsync(sockets);

        var sustainable = ChatSteps.Sustainable(steps);
        double? limit = sustainable?.DeliveredPerSecond;
        result.Figures["steps"] = ChatSteps.ToJson(steps);
        result.Figures["sustainableTargetPerSecond"] = sustainable?.TargetRate;
        result.Figures["sustainableDeliveredPerSecond"] = limit is { } l ? Math.Round(l, 1) : null;
        result.Figures["peakDeliveredPerSecond"] = steps.Count == 0 ? null : Math.Round(steps.Max(s => s.DeliveredPerSecond), 1);
        result.Figures["relayLog"] = relay.Log.ToJson();
        result.Tables.Add((ChatSteps.TableCaption, ChatSteps.Table(steps, limit)));
        result.Notes.Add(sustainable is null
            ? "no relay step was sustainable: the load generator itself may be the limit"
            : $"the relay sustains {sustainable.DeliveredPerSecond:F0} delivered msgs/s (step {sustainable.TargetRate:F0}/s): '% relay' columns are shares of this");
        if (steps.Count > 0 && !steps[^1].ClearlyFailed)
        {
            result.Notes.Add("the relay never clearly failed: its limit is above the highest step tried");
        }
        foreach (var line in relay.Log.Describe().Take(5)) result.Notes.Add($"relay log: {line}");
        return new Outcome(result, steps, limit);
    }
}
