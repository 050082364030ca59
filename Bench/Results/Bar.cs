using System.Text.Json.Nodes;

namespace Messenger.Bench.Results;

/// <summary>The targets the project holds itself to, checked against this run's figures (only those measured).</summary>
public static class Bar
{
    public static TextTable Check(IReadOnlyList<WorkloadResult> results)
    {
        var table = new TextTable("requirement", "target", "measured", "met");
        var chat = Find(results, "chat");
        if (chat is not null)
        {
            var sustained = Number(chat, "sustainableDeliveredPerSecond");
            table.Add("chat sustained (p99 < 100 ms, nothing lost)", ">= 10000 msgs/s", Show(sustained, "msgs/s"), Met(sustained >= 10000));
            var p50 = Number(chat, "p50MsAt1000");
            var p99 = Number(chat, "p99MsAt1000");
            table.Add("chat at 1000 msgs/s: p50 (from schedule; from write)", "<= 2 ms",
                $"{Show(p50, "ms")}; {Show(Number(chat, "p50MsFromWriteAt1000"), "ms")}", Met(p50 <= 2));
            table.Add("chat at 1000 msgs/s: p99 (from schedule; from write)", "<= 10 ms",
                $"{Show(p99, "ms")}; {Show(Number(chat, "p99MsFromWriteAt1000"), "ms")}", Met(p99 <= 10));
            var share = Number(chat, "percentOfRelayAtSustainable");
            table.Add("chat vs bare relay at the sustainable step", ">= 50%", Show(share, "%"), Met(share >= 50));
        }
        if (Find(results, "idle") is { } idle)
        {
            // Per connection, the server's fixed costs (and a collection or a trim that happens to land) swamp a few
            // hundred sockets: the figure means something from a thousand on. The highest the resident set stood through
            // the settle's second half, not one read that may have landed on a low point.
            var kib = Number(idle, "kibPerConnectionHigh");
            var connections = Number(idle, "connections");
            table.Add($"idle authenticated connection ({connections} connections)", "<= 24 KiB (1000+ conns)", Show(kib, "KiB"),
                connections >= 1000 ? Met(kib <= 24) : "n/a (under 1000)");
            if (idle.Figures["marginalFrom"]?.GetValue<int>() is { } from)
            {
                var marginal = Number(idle, "marginalKibPerConnection");
                table.Add($"idle: one more connection ({from} -> {connections} connections)", "<= 24 KiB (from 1000+ conns)", Show(marginal, "KiB"),
                    from >= 1000 ? Met(marginal <= 24) : "n/a (from under 1000)");
            }
        }
        if (Find(results, "offline") is { } offline)
        {
            var ms = Number(offline, "syncAllMs");
            var messages = offline.Parameters["messages"]?.GetValue<int>();
            table.Add($"offline: {messages} queued messages synced", "<= 300 ms (10000 msgs)", Show(ms, "ms"),
                messages == 10000 ? Met(ms <= 300) : "n/a (not 10000)");
        }
        if (Find(results, "group") is { } group)
        {
            var p99 = Number(group, "p99LastMsAt10");
            var members = group.Figures["membersAllOnline"]?.GetValue<int>();
            var sustainable = Number(group, "sustainableMessagesPerSecond");
            table.Add("group, 1000 online, 10 msgs/s (10000 deliveries/s): p99 to the last member (highest sustainable)", "<= 200 ms",
                $"{Show(p99, "ms")} ({Show(sustainable, "msgs/s")})",
                members is null ? "n/a (no all-online case)"
                    : members == Workloads.GroupWorkload.TargetMembers ? Met(p99 <= 200) : "n/a (not 1000 members)");
        }
        return table;
    }

    private static WorkloadResult? Find(IReadOnlyList<WorkloadResult> results, string name) => results.FirstOrDefault(r => r.Name == name);

    private static double? Number(WorkloadResult result, string key) =>
        result.Figures[key] is not JsonValue value ? null
            : value.TryGetValue<double>(out var d) ? d
            : value.TryGetValue<int>(out var i) ? i : null; // a count

    private static string Show(double? value, string unit) => value is { } v ? $"{TextTable.Format(v)} {unit}" : "none";

    private static string Met(bool? met) => met switch { true => "yes", false => "NO", null => "NO" };
}
