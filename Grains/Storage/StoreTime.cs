namespace Messenger.Grains.Storage;

/// <summary>Times as every backend stores them: unix milliseconds.</summary>
internal static class StoreTime
{
    public static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>What a time reads back as after a round trip through a store.</summary>
    public static DateTimeOffset TruncateToMs(DateTimeOffset t) => FromMs(t.ToUnixTimeMilliseconds());
}
