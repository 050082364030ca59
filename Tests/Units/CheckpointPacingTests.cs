using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Units;

/// <summary>How the SQLite checkpoint thread spaces its rounds: the interval where the disk keeps up, further apart when rounds are slow.</summary>
public sealed class CheckpointPacingTests
{
    private static readonly CheckpointPacing Pacing = SqliteSettings.Default.CheckpointPacing();

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.5)]
    [InlineData(2.0)] // ten times the round is exactly the interval
    public void AQuickRound_IsFollowedAfterTheInterval(double roundMs)
    {
        Assert.Equal(Ms(20), Pacing.After(Ms(roundMs), walMoved: true));
    }

    [Theory]
    [InlineData(3, 30)]
    [InlineData(12.5, 125)]
    [InlineData(24.9, 249)]
    public void ASlowRound_IsFollowedAfterTenTimesItsLength(double roundMs, double waitMs)
    {
        Assert.Equal(Ms(waitMs), Pacing.After(Ms(roundMs), walMoved: true));
    }

    [Theory]
    [InlineData(25)]
    [InlineData(345)]
    public void AVerySlowRound_WaitsNoLongerThanTheLongestInterval(double roundMs)
    {
        Assert.Equal(Ms(250), Pacing.After(Ms(roundMs), walMoved: true));
    }

    [Fact]
    public void WhenTheWalDidNotMove_TheIdleIntervalHolds_AndABlockedRoundLooksAgainAfterTheInterval()
    {
        Assert.Equal(Ms(250), Pacing.After(Ms(0.1), walMoved: false));
        Assert.Equal(Ms(250), Pacing.After(Ms(80), walMoved: false));
        Assert.Equal(Ms(20), Pacing.Blocked);
        Assert.Equal(Ms(250), Pacing.Idle);
    }

    [Fact]
    public void AConfiguredIntervalLongerThan250Ms_IsKept_HoweverSlowTheRounds()
    {
        var pacing = new SqliteSettings(TimeSpan.FromSeconds(1)).CheckpointPacing();

        Assert.Equal(TimeSpan.FromSeconds(1), pacing.After(Ms(1), walMoved: true));
        Assert.Equal(TimeSpan.FromSeconds(1), pacing.After(Ms(500), walMoved: true));
    }

    [Fact]
    public void ALongestIntervalShorterThanTheInterval_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointPacing(Ms(100), Ms(50), Ms(250)));
    }
}
