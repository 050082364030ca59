using System.Text.Json.Nodes;
using HdrHistogram;

namespace Messenger.Bench.Driver;

/// <summary>A latency distribution in microseconds (HdrHistogram, 3 significant digits), safe to record from any thread.</summary>
public sealed class Latency
{
    private const long Highest = 3_600_000_000; // one hour in µs: anything longer is clamped
    private readonly LongHistogram _histogram = new(1, Highest, 3);

    public void Record(long us)
    {
        if (us < 1) us = 1;
        else if (us > Highest) us = Highest;
        lock (_histogram) _histogram.RecordValue(us);
    }

    public long Count { get { lock (_histogram) return _histogram.TotalCount; } }

    /// <summary>The value at <paramref name="percentile"/> (0-100) in milliseconds; NaN when empty.</summary>
    public double Ms(double percentile)
    {
        lock (_histogram)
        {
            return _histogram.TotalCount == 0 ? double.NaN : _histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }

    public double MaxMs { get { lock (_histogram) return _histogram.TotalCount == 0 ? double.NaN : _histogram.GetMaxValue() / 1000.0; } }

    public double MeanMs { get { lock (_histogram) return _histogram.TotalCount == 0 ? double.NaN : _histogram.GetMean() / 1000.0; } }

    public JsonObject ToJson() => new()
    {
        ["count"] = Count,
        ["p50Ms"] = Round(Ms(50)),
        ["p90Ms"] = Round(Ms(90)),
        ["p99Ms"] = Round(Ms(99)),
        ["p999Ms"] = Round(Ms(99.9)),
        ["maxMs"] = Round(MaxMs),
        ["meanMs"] = Round(MeanMs),
    };

    private static double? Round(double ms) => double.IsNaN(ms) ? null : Math.Round(ms, 3);
}
