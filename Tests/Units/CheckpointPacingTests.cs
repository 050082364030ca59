using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Units;

/// <summary>How the SQLite checkpoint thread spaces its rounds: the interval where the disk keeps up, further apart when rounds are slow.</summary>
public sealed class CheckpointPacingTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>The wait after busy rounds that took <paramref name="roundsMs"/>, in that order, with the default settings.</summary>
    private static TimeSpan WaitAfter(params double[] roundsMs)
    {
        var pacing = SqliteSettings.Default.CheckpointPacing();
        var wait = TimeSpan.Zero;
        foreach (var round in roundsMs) wait = pacing.After(Ms(round), walMoved: true);
        Assert.Equal(wait, pacing.Current);
        return wait;
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.5)]
    [InlineData(2.0)] // ten times the round is exactly the interval
    public void QuickRounds_AreFollowedAfterTheInterval(double roundMs)
    {
        Assert.Equal(Ms(20), WaitAfter(roundMs, roundMs, roundMs));
    }

    [Theory]
    [InlineData(3, 30)]
    [InlineData(12.5, 125)]
    [InlineData(24.9, 249)]
    public void SlowRounds_AreFollowedAfterTenTimesTheirLength(double roundMs, double waitMs)
    {
        Assert.Equal(Ms(waitMs), WaitAfter(roundMs, roundMs, roundMs));
    }

    [Theory]
    [InlineData(25)]
    [InlineData(345)]
    public void VerySlowRounds_WaitNoLongerThanTheLongestInterval(double roundMs)
    {
        Assert.Equal(Ms(250), WaitAfter(roundMs, roundMs, roundMs));
    }

    [Fact]
    public void ThePaceFollowsTheMedianOfTheLastThreeRounds()
    {
        // One round stretched (a collection's pause, a busy core) does not move the pace.
        Assert.Equal(Ms(20), WaitAfter(1, 1, 1, 80));
        Assert.Equal(Ms(20), WaitAfter(1, 1, 1, 80, 1));
        // Two slow rounds out of three do, by the median.
        Assert.Equal(Ms(120), WaitAfter(1, 1, 1, 9, 12, 14));
        Assert.Equal(Ms(90), WaitAfter(1, 1, 1, 9, 1, 14));
        // One quick round among slow ones does not bring it back; two do.
        Assert.Equal(Ms(250), WaitAfter(30, 30, 30, 1.5));
        Assert.Equal(Ms(20), WaitAfter(30, 30, 30, 1.5, 1.5));
        // The first rounds count against none before them: one slow first round does not move the pace, two do.
        Assert.Equal(Ms(20), WaitAfter(50));
        Assert.Equal(Ms(250), WaitAfter(50, 50));
    }

    [Fact]
    public void WhenTheWalDidNotMove_TheIdleIntervalHoldsAndThePaceStays_AndABlockedRoundLooksAgainAfterTheInterval()
    {
        var pacing = SqliteSettings.Default.CheckpointPacing();
        Assert.Equal(Ms(20), pacing.Current);
        Assert.Equal(Ms(250), pacing.Idle);
        for (var i = 0; i < 3; i++) pacing.After(Ms(8), walMoved: true);
        Assert.Equal(Ms(80), pacing.Current);

        Assert.Equal(Ms(250), pacing.After(Ms(0.1), walMoved: false));
        Assert.Equal(Ms(250), pacing.After(Ms(400), walMoved: false));
        Assert.Equal(Ms(80), pacing.Current);
        Assert.Equal(Ms(20), pacing.Blocked);
    }

    [Fact]
    public void AConfiguredIntervalLongerThan250Ms_IsKept_HoweverSlowTheRounds()
    {
        var pacing = new SqliteSettings(TimeSpan.FromSeconds(1)).CheckpointPacing();

        Assert.Equal(TimeSpan.FromSeconds(1), pacing.After(Ms(1), walMoved: true));
        for (var i = 0; i < 3; i++) pacing.After(Ms(500), walMoved: true);
        Assert.Equal(TimeSpan.FromSeconds(1), pacing.Current);
    }

    [Fact]
    public void ALongestIntervalShorterThanTheInterval_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointPacing(Ms(100), Ms(50), Ms(250)));
    }
}
