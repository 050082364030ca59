using System.Globalization;
using System.Text.RegularExpressions;

namespace Messenger.Testing;

/// <summary>
/// Reads the Prometheus text a server serves at <c>/metrics</c>: each sample as its series (the name with its
/// labels other than <c>otel_scope_name</c>) and its value. Compiled into Tests and linked into Bench.
/// </summary>
public static partial class PrometheusText
{
    /// <summary>Series name (with its labels other than <c>otel_scope_name</c>) to value.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var match = Sample().Match(line);
            if (!match.Success) continue;
            var labels = ScopeLabel().Replace(match.Groups["labels"].Value, "").Trim(',');
            var name = match.Groups["name"].Value + (labels.Length > 0 ? "{" + labels + "}" : "");
            series[name] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return series;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"otel_scope_name=""[^""]*"",?")]
    private static partial Regex ScopeLabel();
}
