using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Messenger.Bench.Results;

/// <summary>One table over the targets of a run (<c>--targets</c>): what the extra hop to a cluster costs.</summary>
public static class TargetComparison
{
    public static string Table(IReadOnlyList<(string Target, List<WorkloadResult> Results)> targets)
    {
        var table = new TextTable("target", "chat sustainable/s", "first step/s", "p50 ms", "p99 ms", "ack p50 ms",
            "srv us/msg", "other CPU%", "idle KiB/conn");
        foreach (var (target, results) in targets)
        {
            var chat = results.FirstOrDefault(r => r.Name == "chat")?.Figures;
            var first = (chat?["steps"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(s => s["warmup"]?.GetValue<bool>() == false);
            var idle = results.FirstOrDefault(r => r.Name == "idle")?.Figures;
            table.Add(target,
                chat is null ? "-" : Text(chat["sustainableDeliveredPerSecond"]) ?? "none",
                Text(first?["targetPerSecond"]),
                Text(first?["latencyFromScheduleMs"]?["p50Ms"]),
                Text(first?["latencyFromScheduleMs"]?["p99Ms"]),
                Text(first?["ackLatencyFromScheduleMs"]?["p50Ms"]),
                Text(first?["serverCpuUsPerDelivered"]),
                Text(first?["otherProcessesCpuPercent"]),
                Text(idle?["kibPerConnectionHigh"]));
        }
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("== Targets compared (server CPU and memory: the gateway, or a cluster's silos and gateways together; its PostgreSQL is \"other\")");
        text.Append(table.ToString());
        return text.ToString();
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("0.##", CultureInfo.InvariantCulture),
        _ => node.ToString(),
    };
}
