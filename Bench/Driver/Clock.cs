using System.Diagnostics;

namespace Messenger.Bench.Driver;

/// <summary>
/// Microseconds since this process started, from the monotonic clock. Every socket of the bench
/// lives in this one process, so a timestamp written into a frame by the sender can be compared
/// with the receiver's clock without any synchronisation.
/// </summary>
public static class Clock
{
    private static readonly long Start = Stopwatch.GetTimestamp();
    private static readonly double UsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    public static long NowUs() => (long)((Stopwatch.GetTimestamp() - Start) * UsPerTick);

    /// <summary>
    /// Open loop: hands out <paramref name="total"/> sends evenly over <paramref name="durationUs"/> from
    /// <paramref name="startUs"/>, each when its time comes (<paramref name="schedule"/> gets its index and scheduled
    /// time), never waiting on answers. Runs on the caller's (dedicated) thread.
    /// </summary>
    public static void Dispatch(long startUs, double durationUs, long total, Action<long, long> schedule)
    {
        var intervalUs = durationUs / Math.Max(total, 1);
        long k = 0;
        while (k < total)
        {
            var due = Math.Min(total, (long)((NowUs() - startUs) / intervalUs) + 1);
            for (; k < due; k++) schedule(k, startUs + (long)(k * intervalUs));
            if (k < total) SleepUntil(startUs + (long)(k * intervalUs));
        }
    }

    /// <summary>Sleeps until <paramref name="us"/> (on a dedicated thread; ~1 ms granularity).</summary>
    public static void SleepUntil(long us)
    {
        var wait = us - NowUs();
        if (wait > 1000) Thread.Sleep((int)Math.Min(wait / 1000, 50));
        else Thread.Sleep(1);
    }
}
