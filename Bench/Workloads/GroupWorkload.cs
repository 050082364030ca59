using System.Globalization;
using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// One group of M members (1,000), a few of them sending open-loop at a rate stepped up (5, 10, 20,
/// 40 msgs/s), every online member's device receiving every message. Per message: the ack, the first
/// online device and the last one to hold it, from the scheduled send time. Run once per offline
/// fraction (all online, then 90% offline: members with no socket, whose logs still get every
/// message), each case on a fresh server.
/// </summary>
public static class GroupWorkload
{
    /// <summary>The rate the target is stated at: 10 msgs/s into a 1,000-member group (10,000 deliveries/s).</summary>
    public const double TargetRate = 10;
    public const int TargetMembers = 1000;

    private sealed record Case(int Members, int Online, int Senders, List<GroupStep> Steps)
    {
        public int Offline => Members - Online;
        public GroupStep? Sustainable => Steps.Where(s => s.Sustainable).OrderByDescending(s => s.TargetRate).FirstOrDefault();
        public string Name => Offline == 0 ? "all online" : $"{Offline} offline";
    }

    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var members = options.GroupMembers;
        var result = new WorkloadResult("group",
            $"one group of {members} members, {options.GroupSenders} of them sending open-loop at a rate stepped up; " +
            $"offline share per case: {string.Join(", ", options.OfflineFractions.Select(f => f.ToString("0.##", CultureInfo.InvariantCulture)))}");
        result.Parameters["members"] = members;
        result.Parameters["senders"] = options.GroupSenders;
        result.Parameters["offlineFractions"] = string.Join(",", options.OfflineFractions.Select(f => f.ToString(CultureInfo.InvariantCulture)));
        result.Parameters["rates"] = string.Join(",", options.GroupRates.Select(r => r.ToString(CultureInfo.InvariantCulture)));
        result.Parameters["stepSeconds"] = options.StepDuration.TotalSeconds;
        result.Parameters["warmupSeconds"] = options.Warmup.TotalSeconds;
        result.Parameters["windowPerSocket"] = options.Window;
        result.Parameters["textBytes"] = options.TextBytes;
        result.Parameters["latencyOrigin"] = "scheduled send time (open loop)";
        result.Parameters["deliveries"] = "messages x online members (the sender's own device included: it gets each message as an update like every member)";
        result.Parameters["sustainable"] = $"p99 to the last online member <= {GroupStep.SustainableP99Ms} ms, nothing lost/unacked/unsent, no disconnects, deliveries >= 95% of target";

        var cases = new List<Case>();
        foreach (var fraction in options.OfflineFractions)
        {
            var online = BenchOptions.OnlineMembers(members, fraction);
            context.Log.WriteLine($"  case: {members} members, {online} online, {members - online} offline");
            cases.Add(await RunCaseAsync(context, result, members, online));
        }

        var table = new TextTable("online", "msgs/s", "deliv/s target", "deliv/s", "ack p50", "ack p99", "first p50", "first p99",
            "last p50", "last p99", "last max", "lost", "unacked", "dup", "ooo", "disc", "srv CPU%", "gen CPU%", "other CPU%", "steal%",
            "srv us/deliv", "srv us/msg", "flush/s", "ok");
        var json = new JsonArray();
        foreach (var c in cases)
        {
            foreach (var s in c.Steps)
            {
                table.Add($"{c.Online}/{c.Members}", s.TargetRate.ToString("0.##", CultureInfo.InvariantCulture), s.TargetDeliveriesPerSecond, s.DeliveriesPerSecond, s.Ack.Ms(50), s.Ack.Ms(99),
                    s.First.Ms(50), s.First.Ms(99), s.Last.Ms(50), s.P99LastMs, s.Last.MaxMs, s.Lost, s.Unacked + s.Unsent, s.Duplicates,
                    s.OutOfOrder, s.Disconnects, s.Cpu.ServerPercent, s.Cpu.BenchPercent, s.Cpu.OtherPercent, s.Cpu.StealPercent, s.ServerUsPerDelivery,
                    s.Acked == 0 ? double.NaN : s.Cpu.ServerSeconds * 1e6 / s.Acked, s.FlushesPerSecond, s.Sustainable ? "yes" : "no");
            }
            var sustainable = c.Sustainable;
            json.Add(new JsonObject
            {
                ["members"] = c.Members,
                ["online"] = c.Online,
                ["offline"] = c.Offline,
                ["senders"] = c.Senders,
                ["steps"] = new JsonArray(c.Steps.Select(s => (JsonNode)s.ToJson()).ToArray()),
                ["sustainableMessagesPerSecond"] = sustainable?.TargetRate,
                ["sustainableDeliveriesPerSecond"] = sustainable is null ? null : Math.Round(sustainable.DeliveriesPerSecond, 1),
            });
            result.Notes.Add($"{c.Name}: " + (sustainable is null
                ? $"no step was sustainable (p99 to the last member <= {GroupStep.SustainableP99Ms} ms with nothing lost)"
                : $"sustainable up to {sustainable.TargetRate:F0} msgs/s into the group = {sustainable.DeliveriesPerSecond:F0} deliveries/s " +
                  $"(p99 to the last member {sustainable.P99LastMs:F1} ms)"));
            var acks = c.Steps.Sum(s => s.AckedLive);
            if (acks > 0 && c.Offline > 0)
            {
                result.Notes.Add($"{c.Name}: an ack frame averaged {c.Steps.Sum(s => s.AckBytes) / acks} bytes (each lists the members known to be offline)");
            }
            if (c.Steps.Count > 0 && !c.Steps[^1].ClearlyFailed)
            {
                result.Notes.Add($"{c.Name}: the highest step tried did not clearly fail; the limit may be higher (add rates with --rates)");
            }
        }
        result.Figures["cases"] = json;
        // The target's figures: the all-online case.
        var allOnline = cases.FirstOrDefault(c => c.Offline == 0);
        var atTarget = allOnline?.Steps.FirstOrDefault(s => s.TargetRate == TargetRate);
        result.Figures["sustainableMessagesPerSecond"] = allOnline?.Sustainable?.TargetRate;
        result.Figures["sustainableDeliveriesPerSecond"] = allOnline?.Sustainable is { } best ? Math.Round(best.DeliveriesPerSecond, 1) : null;
        result.Figures["p99LastMsAt10"] = atTarget is null ? null : Math.Round(atTarget.P99LastMs, 3);
        result.Figures["p50LastMsAt10"] = atTarget is null ? null : Math.Round(atTarget.Last.Ms(50), 3);
        result.Figures["membersAllOnline"] = allOnline?.Members;
        var mostlyOffline = cases.Where(c => c.Offline > 0).OrderByDescending(c => c.Offline).FirstOrDefault();
        result.Figures["offlineCaseSustainableMessagesPerSecond"] = mostlyOffline?.Sustainable?.TargetRate;
        result.Tables.Add((TableCaption, table));
        return [result];
    }

    private static async Task<Case> RunCaseAsync(BenchContext context, WorkloadResult result, int members, int online)
    {
        var options = context.Options;
        var log = context.Log;
        var senders = Math.Min(options.GroupSenders, online);
        var name = online == members ? "group" : $"group-offline{members - online}";
        List<GroupStep> steps;
        await using (var target = await context.StartGatewayAsync(name, members))
        {
            var accounts = target.Accounts;
            var started = Clock.NowUs();
            // Member 0 owns the group; members 0..online-1 connect (0..senders-1 send); the rest stay offline.
            var conversation = await target.CreateGroupAsync(accounts[0], $"bench {members}", accounts.Skip(1).Take(members - 1));
            log.WriteLine($"  group {conversation} of {members} created in {(Clock.NowUs() - started) / 1e6:F1} s");
            var events = new SocketEvents();
            var plan = new[] { (Rate: WarmupRate(options), options.Warmup) }.Concat(options.GroupRates.Select(r => (r, options.StepDuration)));
            var load = new GroupLoad(online, senders, conversation, options.Window, FrameWriter.Text(options.TextBytes), GroupLoad.Capacity(plan), events);
            started = Clock.NowUs();
            var sockets = await Connections.ConnectAsync(0, online, i => target.SocketUri(accounts[i]), events, null, 64);
            for (var i = 0; i < online; i++) load.Attach(i, sockets[i]);
            log.WriteLine($"  {online} members connected in {(Clock.NowUs() - started) / 1e6:F1} s, {members - online} offline, {senders} sending");

            steps = await RunStepsAsync(load, options, target.Pids, log, $"group {online}/{members} online");
            await BenchSocket.CloseAllAsync(sockets);
            foreach (var reason in events.Reasons) result.Notes.Add($"disconnect ({online}/{members} online): {reason}");
            if (target.Server is { } server)
            {
                result.Figures[$"serverLog{(online == members ? "" : "Offline" + (members - online))}"] = server.Log.ToJson();
                foreach (var line in server.Log.Describe().Take(8)) result.Notes.Add($"server log ({online}/{members} online): {line}");
                if (server.HasExited) result.Notes.Add($"the server process EXITED during the {online}/{members} online case");
            }
        }
        return new Case(members, online, senders, steps);
    }

    private static double WarmupRate(BenchOptions options) => Math.Min(5, options.GroupRates[0]);

    /// <summary>A warm-up (not reported), then each rate in turn; stops after the first step that clearly fails.</summary>
    private static async Task<List<GroupStep>> RunStepsAsync(GroupLoad load, BenchOptions options, IReadOnlyList<int>? serverPids, TextWriter log, string label)
    {
        var warm = await load.RunStepAsync(WarmupRate(options), options.Warmup, warmup: true, serverPids);
        log.WriteLine($"  {label} warm-up {warm.TargetRate:F0}/s: {Describe(warm)}");
        var steps = new List<GroupStep>();
        foreach (var rate in options.GroupRates)
        {
            var step = await load.RunStepAsync(rate, options.StepDuration, warmup: false, serverPids);
            steps.Add(step);
            log.WriteLine($"  {label} {rate:F0} msgs/s: {Describe(step)}");
            if (step.ClearlyFailed)
            {
                log.WriteLine($"  {label}: step {rate:F0} msgs/s clearly failed; not stepping higher");
                break;
            }
            await Task.Delay(options.Quick ? 200 : 1000);
        }
        return steps;
    }

    private static string Describe(GroupStep s) =>
        $"deliveries {s.DeliveriesPerSecond:F0}/s of {s.TargetDeliveriesPerSecond:F0}, ack p50 {s.Ack.Ms(50):F1} p99 {s.Ack.Ms(99):F1} ms, " +
        $"first p50 {s.First.Ms(50):F1} p99 {s.First.Ms(99):F1} ms, last p50 {s.Last.Ms(50):F1} p99 {s.P99LastMs:F1} max {s.Last.MaxMs:F1} ms, " +
        $"lost {s.Lost} ({s.MissingDeliveries} deliveries), unacked {s.Unacked}, unsent {s.Unsent}, dup {s.Duplicates}, ooo {s.OutOfOrder}, " +
        $"errors {s.Errors}{(s.FirstError is null ? "" : $" ({s.FirstError})")}, disconnects {s.Disconnects}, " +
        $"{s.Cpu.Describe()}, srv {s.ServerUsPerDelivery:F1} us/delivery";

    private static string TableCaption =>
        "msgs/s = messages into the group (target); deliveries = messages x online members' devices (the sender's included); latency ms from the " +
        "scheduled send: ack = the sender's ack, first/last = the first and the last online member's device reads the push (last = every online " +
        "device holds it); lost = acked messages some online device never got (after the step's drain: 5 s without progress); srv us/deliv = server " +
        "CPU per delivery to an online device, srv us/msg = per message into the group (offline members' logs included); CPU in % of one core " +
        $"({Environment.ProcessorCount * 100}% = all {Environment.ProcessorCount} cores, shared by the server and the load generator)";
}
