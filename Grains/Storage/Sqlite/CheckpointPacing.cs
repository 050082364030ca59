namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// How long the checkpoint thread waits before its next round. While commits come it waits ten times the median of
/// its last three rounds' durations, at least the configured interval and at most the longest: where the disk keeps up
/// a round takes a millisecond or two and the configured interval holds (a short tail where CPU is the limit); where the
/// disk is the limit rounds grow slow, the rounds spread out, and a page written again within the longer interval is
/// copied once (fewer bytes per message, to the disk that is short of them). Below the longest interval checkpoints so
/// take at most about a tenth of the time. The median, because a round is timed by the wall clock: one round that a
/// collection's pause or a busy core stretched does not move the pace, nor does one that copied next to nothing. (The
/// quickest of the three was tried: on a disk at its limit quick rounds come between slow ones, and it lost most of
/// the saving.) Once the WAL stops moving it waits the idle interval. The writer reads <see cref="Current"/> to size the
/// WAL's restart to the pace (<see cref="SqliteSettings.WalRestartBytesAt"/>). Rounds come from one thread; any thread
/// reads.
/// </summary>
internal sealed class CheckpointPacing
{
    /// <summary>The wait after a busy round, in rounds: ten times as long as the round took.</summary>
    public const int WaitPerRound = 10;

    private readonly TimeSpan _interval;
    private readonly TimeSpan _longest;
    private readonly TimeSpan _idle;
    private readonly TimeSpan[] _lastRounds = new TimeSpan[3];
    private int _nextRound;
    private long _currentTicks;

    public CheckpointPacing(TimeSpan interval, TimeSpan longest, TimeSpan idle)
    {
        if (interval <= TimeSpan.Zero || longest < interval || idle <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), $"interval {interval}, longest {longest}, idle {idle}");
        _interval = interval;
        _longest = longest;
        _idle = idle;
        _currentTicks = interval.Ticks;
    }

    /// <summary>The wait after the last round that found new commits: the pace while commits come.</summary>
    public TimeSpan Current => TimeSpan.FromTicks(Volatile.Read(ref _currentTicks));

    /// <summary>Before the first round, and after an error that may last.</summary>
    public TimeSpan Idle => _idle;

    /// <summary>After a round that could not run (the writer's own checkpoint held the WAL): look again soon.</summary>
    public TimeSpan Blocked => _interval;

    /// <summary>After a round that took <paramref name="took"/>; <paramref name="walMoved"/> when commits came since the round before.</summary>
    public TimeSpan After(TimeSpan took, bool walMoved)
    {
        if (!walMoved) return _idle;
        _lastRounds[_nextRound] = took;
        _nextRound = (_nextRound + 1) % _lastRounds.Length;
        var (a, b, c) = (_lastRounds[0], _lastRounds[1], _lastRounds[2]);
        var median = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        var wait = median * WaitPerRound;
        wait = wait < _interval ? _interval : wait > _longest ? _longest : wait;
        Volatile.Write(ref _currentTicks, wait.Ticks);
        return wait;
    }
}
