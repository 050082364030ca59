using Messenger.Grains.Hosting;
using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Units;

/// <summary>The SQLite checkpoint pacing and the setting that chooses it.</summary>
public sealed class SqliteSettingsTests
{
    [Fact]
    public void TheDefault_CheckpointsEvery20Ms_UpTo250MsWhenRoundsAreSlow_AndRestartsTheWalAt4MiBUpTo32()
    {
        var settings = new StorageOptions().Sqlite;

        Assert.Equal(TimeSpan.FromMilliseconds(20), settings.CheckpointInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.LongestCheckpointInterval);
        Assert.Equal(4L * 1024 * 1024, SqliteSettings.WalRestartBytesAt(settings.CheckpointInterval));
        Assert.Equal(32L * 1024 * 1024, settings.LargestWalRestartBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.IdleCheckpointInterval);
        Assert.Equal(TimeSpan.Zero, settings.SimulatedFlushLatency);
    }

    [Theory]
    [InlineData(5, 4)]
    [InlineData(20, 4)]
    [InlineData(31, 4)] // 3.97 MiB of writes at 128 MiB/s: the floor still holds
    [InlineData(32, 5)] // 4.1 MiB: whole MiB, rounded up
    [InlineData(150, 20)]
    [InlineData(250, 32)]
    [InlineData(1000, 128)]
    public void TheWalsRestartSize_HasRoomForAnIntervalsWrites(int intervalMs, int restartMiB)
    {
        Assert.Equal(restartMiB * 1024L * 1024, SqliteSettings.WalRestartBytesAt(TimeSpan.FromMilliseconds(intervalMs)));
    }

    [Theory]
    [InlineData(5, 250)]
    [InlineData(250, 250)]
    [InlineData(1000, 1000)] // an interval longer than 250 ms is never shortened
    public void TheLongestInterval_Is250MsOrTheIntervalIfLonger(int intervalMs, int longestMs)
    {
        var settings = new SqliteSettings(TimeSpan.FromMilliseconds(intervalMs));

        Assert.Equal(TimeSpan.FromMilliseconds(longestMs), settings.LongestCheckpointInterval);
        Assert.Equal(SqliteSettings.WalRestartBytesAt(TimeSpan.FromMilliseconds(longestMs)), settings.LargestWalRestartBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(longestMs), settings.IdleCheckpointInterval);
    }

    [Fact]
    public void TheConfiguredInterval_AndTheBenchmarksLatency_ReachTheDatabasesSettings()
    {
        var options = new StorageOptions { CheckpointInterval = TimeSpan.FromMilliseconds(250), SimulatedFlushLatency = TimeSpan.FromMilliseconds(1) };
        options.Validate();

        Assert.Equal(new SqliteSettings(TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(1)), options.Sqlite);
    }

    [Theory]
    [InlineData("00:00:00.004")]
    [InlineData("00:00:11")]
    [InlineData("-00:00:01")]
    public void AnIntervalOutOfRange_IsRefusedNamingTheSetting(string interval)
    {
        var ex = Assert.Throws<InvalidOperationException>(new StorageOptions { CheckpointInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) }.Validate);

        Assert.StartsWith("Storage:CheckpointInterval must be 00:00:00.005 to 00:00:10, is ", ex.Message);
    }
}
