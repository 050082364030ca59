namespace Messenger.Grains.Support;

/// <summary>
/// How long to wait before trying again something that is otherwise done at most once per <c>interval</c>, after
/// <c>failures</c> failures in a row: the interval but at least <see cref="First"/>, doubling each time, up to
/// <see cref="Longest"/> (or the interval, if longer). Shared by <see cref="ThrottledSave"/> and the receipts' pacing
/// per sender; the doubling itself (<see cref="Doubling"/>) also paces a member's failed deliveries.
/// </summary>
internal static class RetryBackoff
{
    /// <summary>The first wait after a failure, when the interval is shorter.</summary>
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between failed attempts, when the interval is shorter.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(1);

    /// <summary>The wait after <paramref name="failures"/> (≥ 1) failures in a row of something paced by <paramref name="interval"/>.</summary>
    public static TimeSpan After(TimeSpan interval, int failures) =>
        Doubling(interval > First ? interval : First, interval > Longest ? interval : Longest, failures);

    /// <summary>The wait after <paramref name="failures"/> (≥ 1) failures in a row: <paramref name="first"/>, doubled for each failure after the first, at most <paramref name="longest"/>.</summary>
    public static TimeSpan Doubling(TimeSpan first, TimeSpan longest, int failures)
    {
        var doublings = Math.Clamp(failures - 1, 0, 16);
        return TimeSpan.FromTicks(Math.Min(first.Ticks << doublings, longest.Ticks));
    }
}
