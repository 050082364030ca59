namespace Messenger.Grains.Delivery;

/// <summary>
/// How far a user's log has been received by some device: moved by the silo's outbox when a gateway
/// holding a live session of the user has taken a push, and by the user's grain when a device syncs.
/// The push-notification decision reads it. Safe to move from any thread; it never moves back.
/// </summary>
public sealed class ReceivedMark
{
    private long _userSeq;

    /// <summary>The highest <c>userSeq</c> received.</summary>
    public long UserSeq => Volatile.Read(ref _userSeq);

    /// <summary>Moves the mark to <paramref name="userSeq"/> if that is further.</summary>
    public void Advance(long userSeq)
    {
        var seen = Volatile.Read(ref _userSeq);
        while (userSeq > seen)
        {
            var previous = Interlocked.CompareExchange(ref _userSeq, userSeq, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }
}
