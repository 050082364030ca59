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

    /// <summary>
    /// The sum of every series of the metric <paramref name="name"/>, or only of those whose label
    /// <paramref name="filter"/> has the given value.
    /// </summary>
    public static double Sum(Dictionary<string, double> series, string name, (string Label, string Value)? filter = null)
    {
        double sum = 0;
        foreach (var (key, value) in series)
        {
            if (Name(key) != name) continue;
            if (filter is { } f && Label(key, f.Label) != f.Value) continue;
            sum += value;
        }
        return sum;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1) of what the histogram <paramref name="name"/> recorded between two
    /// readings, estimated from its cumulative buckets (<c>NAME_bucket{le="…"}</c>, every series of the metric
    /// together): linear within the bucket it falls in, and the highest finite bound when it falls beyond that.
    /// Null when nothing was recorded between the readings, or when a bucket went down (the process restarted between them).
    /// </summary>
    public static double? Quantile(Dictionary<string, double> before, Dictionary<string, double> after, string name, double quantile) =>
        Quantiles(before, after, name, quantile)[0];

    /// <summary>Several quantiles as <see cref="Quantile"/> estimates each, from one reading of the buckets.</summary>
    public static double?[] Quantiles(Dictionary<string, double> before, Dictionary<string, double> after, string name, params double[] quantiles)
    {
        foreach (var quantile in quantiles)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        }
        var counts = BucketChanges(before, after, name);
        return quantiles.Select(q => counts is null ? (double?)null : QuantileOf(counts, q)).ToArray();
    }

    /// <summary>Each bucket's cumulative count recorded between the readings, by bound; null when none, or across a restart.</summary>
    private static SortedDictionary<double, double>? BucketChanges(Dictionary<string, double> before, Dictionary<string, double> after, string name)
    {
        var bucket = name + "_bucket";
        var counts = new SortedDictionary<double, double>();
        foreach (var (key, value) in after)
        {
            if (Name(key) != bucket || Label(key, "le") is not { } le) continue;
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            var earlier = before.GetValueOrDefault(key);
            if (value < earlier) return null;
            counts[bound] = counts.GetValueOrDefault(bound) + value - earlier;
        }
        return counts.Count == 0 || counts.Last().Value <= 0 ? null : counts;
    }

    private static double QuantileOf(SortedDictionary<double, double> counts, double quantile)
    {
        var rank = quantile * counts.Last().Value;
        double lower = 0, below = 0;
        foreach (var (bound, cumulative) in counts)
        {
            if (cumulative >= rank && cumulative > below)
            {
                return double.IsPositiveInfinity(bound) ? lower : lower + (bound - lower) * (rank - below) / (cumulative - below);
            }
            lower = bound;
            below = cumulative;
        }
        return lower;
    }

    /// <summary>The metric's name of a series (without its labels).</summary>
    public static string Name(string series) => series.IndexOf('{') is var brace and >= 0 ? series[..brace] : series;

    /// <summary>The value of one label of a series, or null.</summary>
    public static string? Label(string series, string label)
    {
        var start = series.IndexOf("{" + label + "=\"", StringComparison.Ordinal);
        if (start < 0) start = series.IndexOf("," + label + "=\"", StringComparison.Ordinal);
        if (start < 0) return null;
        start += label.Length + 3;
        var end = series.IndexOf('"', start);
        return end < 0 ? null : series[start..end];
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"otel_scope_name=""[^""]*"",?")]
    private static partial Regex ScopeLabel();
}
