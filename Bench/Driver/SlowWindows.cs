using System.Globalization;
using System.Text.Json.Nodes;

namespace Messenger.Bench.Driver;

/// <summary>
/// When in a step the slow deliveries came: the slowest delivery of each 100 ms window of the step, by the
/// time it arrived. A tail made by periodic stalls (a garbage collection, a checkpoint, a timer sweep) shows
/// as a few windows at a steady interval; a tail made by a busy machine shows spread over the step. Safe to
/// record from any thread.
/// </summary>
public sealed class SlowWindows
{
    public const long WindowUs = 100_000;
    private const int MaxWindows = 36_000; // an hour; later deliveries count in the last window

    private readonly long[] _maxUs;

    /// <param name="expected">How long the step is expected to last, drain included; later deliveries count in the last window.</param>
    public SlowWindows(TimeSpan expected)
    {
        _maxUs = new long[(int)Math.Clamp(expected.Ticks / (WindowUs * 10) + 1, 1, MaxWindows)];
    }

    /// <summary>A delivery arrived <paramref name="sinceStartUs"/> after the step started, <paramref name="latencyUs"/> late.</summary>
    public void Record(long sinceStartUs, long latencyUs)
    {
        ref var window = ref _maxUs[(int)Math.Clamp(sinceStartUs / WindowUs, 0, _maxUs.Length - 1)];
        long max;
        while (latencyUs > (max = Interlocked.Read(ref window)) && Interlocked.CompareExchange(ref window, latencyUs, max) != max) { }
    }

    /// <summary>The windows whose slowest delivery took longer than <paramref name="overMs"/>: start (s from the step's start) and that delivery's ms.</summary>
    public List<(double AtSeconds, double MaxMs)> Over(double overMs)
    {
        var slow = new List<(double, double)>();
        for (var i = 0; i < _maxUs.Length; i++)
        {
            var us = Interlocked.Read(ref _maxUs[i]);
            if (us > overMs * 1000) slow.Add((i * WindowUs / 1e6, us / 1000.0));
        }
        return slow;
    }

    /// <summary>For the progress line: how many windows had a delivery over <paramref name="overMs"/>, and when (at most 12 named).</summary>
    public string Describe(double overMs)
    {
        var slow = Over(overMs);
        if (slow.Count == 0) return $"no 100 ms window with a delivery over {overMs:F0} ms";
        var named = string.Join(", ", slow.Take(12).Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.AtSeconds:F1}s ({w.MaxMs:F0})")));
        return $"{slow.Count} windows of 100 ms with a delivery over {overMs:F0} ms, at {named}{(slow.Count > 12 ? ", …" : "")}";
    }

    public JsonArray ToJson(double overMs) =>
        [.. Over(overMs).Select(w => (JsonNode)new JsonObject { ["atSeconds"] = Math.Round(w.AtSeconds, 1), ["maxMs"] = Math.Round(w.MaxMs, 1) })];
}
