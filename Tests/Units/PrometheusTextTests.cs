using Messenger.Testing;

namespace Messenger.Tests.Units;

/// <summary>Percentiles read from a histogram's buckets between two scrapes (what the bench reports per step).</summary>
public sealed class PrometheusTextTests
{
    private const string Name = "store_commit_ms";

    // Two series of one histogram (two tag values), cumulative buckets, as the exporter writes them.
    private static Dictionary<string, double> Scrape(params (string Le, double A, double B)[] buckets)
    {
        var text = string.Join('\n', buckets.SelectMany(b => new[]
        {
            $"{Name}_bucket{{otel_scope_name=\"Messenger\",kind=\"a\",le=\"{b.Le}\"}} {b.A}",
            $"{Name}_bucket{{otel_scope_name=\"Messenger\",kind=\"b\",le=\"{b.Le}\"}} {b.B}",
        }));
        return PrometheusText.Parse(text + "\n");
    }

    [Fact]
    public void Quantile_OfWhatWasRecordedBetweenTwoScrapes_IsInterpolatedWithinItsBucket_OverEverySeries()
    {
        // Before: 10 observations under 1 ms (series a). After: 10 more under 1 ms (a), 60 in 1-2 ms (a 40, b 20),
        // 20 in 2-5 ms (b), 10 beyond 5 ms (b).
        var before = Scrape(("1", 10, 0), ("2", 10, 0), ("5", 10, 0), ("+Inf", 10, 0));
        var after = Scrape(("1", 20, 0), ("2", 60, 20), ("5", 60, 40), ("+Inf", 60, 50));

        // 100 new observations: the median is the 50th, 40 of the 60 into the 1-2 ms bucket.
        Assert.Equal(1 + 40.0 / 60, PrometheusText.Quantile(before, after, Name, 0.5)!.Value, 6);
        Assert.Equal(1.0, PrometheusText.Quantile(before, after, Name, 0.1)!.Value, 6);
        Assert.Equal(2 + 3 * 10.0 / 20, PrometheusText.Quantile(before, after, Name, 0.8)!.Value, 6);
        // Beyond the highest finite bound: that bound, the most the buckets can say.
        Assert.Equal(5.0, PrometheusText.Quantile(before, after, Name, 0.99)!.Value, 6);
    }

    [Fact]
    public void Quantile_SkipsEmptyBuckets_AndReadsTheEnds()
    {
        // 10 observations under 1 ms, none in 1-2 ms, 10 in 2-4 ms.
        var after = Scrape(("1", 10, 0), ("2", 10, 0), ("4", 10, 10), ("+Inf", 10, 10));

        Assert.Equal(0.0, PrometheusText.Quantile([], after, Name, 0)!.Value, 6);
        Assert.Equal(1.0, PrometheusText.Quantile([], after, Name, 0.5)!.Value, 6);
        // Just past the median: in the 2-4 ms bucket, the empty 1-2 ms bucket skipped.
        Assert.Equal(2 + 2 * 1.0 / 10, PrometheusText.Quantile([], after, Name, 0.55)!.Value, 6);
        Assert.Equal(4.0, PrometheusText.Quantile([], after, Name, 1)!.Value, 6);
    }

    [Fact]
    public void Quantile_WithEverythingBeyondTheLastBound_IsThatBound()
    {
        var after = Scrape(("1", 0, 0), ("2", 0, 0), ("+Inf", 4, 1));

        Assert.Equal(2.0, PrometheusText.Quantile([], after, Name, 0.5)!.Value, 6);
    }

    [Fact]
    public void Quantile_AcrossARestart_IsNull_AndOtherLabelsEndingInLeAreNotTakenForIt()
    {
        var before = Scrape(("1", 50, 0), ("+Inf", 50, 0));
        var after = Scrape(("1", 3, 0), ("+Inf", 4, 0)); // the counts started over

        Assert.Null(PrometheusText.Quantile(before, after, Name, 0.5));
        var tagged = PrometheusText.Parse($"{Name}_bucket{{role=\"x\",le=\"1\"}} 2\n{Name}_bucket{{role=\"x\",le=\"+Inf\"}} 2\n");
        Assert.Equal(0.5, PrometheusText.Quantile([], tagged, Name, 0.5)!.Value, 6);
        Assert.Equal("x", PrometheusText.Label($"{Name}_bucket{{role=\"x\",le=\"1\"}}", "role"));
    }

    [Fact]
    public void Quantile_WithNothingRecordedBetween_OrNoSuchHistogram_IsNull()
    {
        var scrape = Scrape(("1", 3, 1), ("+Inf", 3, 1));

        Assert.Null(PrometheusText.Quantile(scrape, scrape, Name, 0.5));
        Assert.Null(PrometheusText.Quantile(scrape, scrape, "other_ms", 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrometheusText.Quantile(scrape, scrape, Name, 1.5));
    }
}
