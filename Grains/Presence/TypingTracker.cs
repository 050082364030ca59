namespace Messenger.Grains.Presence;

/// <summary>
/// Who is typing in one conversation, and until when. Only transitions are worth telling anyone:
/// a start, and a stop (by timeout or by the typist's message); renewals just move the deadline.
/// </summary>
internal sealed class TypingTracker(TimeSpan timeout, TimeSpan minInterval)
{
    private readonly Dictionary<string, Typist> _typists = new(StringComparer.Ordinal);

    /// <summary>
    /// Records a typing signal; true when the others must be told: typing started, or it has been
    /// renewed and half its announced lifetime has passed (so a receiver's own timer never runs out
    /// while the typist keeps typing).
    /// </summary>
    public bool Signal(string userId, DateTimeOffset now)
    {
        var announcedAt = now;
        var tell = true;
        if (_typists.TryGetValue(userId, out var typist))
        {
            if (now - typist.LastSignal < minInterval)
            {
                throw new MessengerException(ErrorCode.RateLimited,
                    $"typing may be signalled at most once per {minInterval.TotalMilliseconds:0} ms.", minInterval - (now - typist.LastSignal));
            }
            tell = now - typist.AnnouncedAt >= timeout / 2;
            if (!tell) announcedAt = typist.AnnouncedAt;
        }
        _typists[userId] = new Typist(now + timeout, now, announcedAt);
        return tell;
    }

    /// <summary>Ends a user's typing (they sent a message); true if they were typing.</summary>
    public bool Stop(string userId) => _typists.Remove(userId);

    /// <summary>Removes and returns the typists whose deadline has passed.</summary>
    public List<string>? Expire(DateTimeOffset now)
    {
        List<string>? expired = null;
        foreach (var (userId, typist) in _typists)
        {
            if (typist.ExpiresAt <= now) (expired ??= []).Add(userId);
        }
        if (expired is not null) foreach (var userId in expired) _typists.Remove(userId);
        return expired;
    }

    /// <summary>The earliest deadline, or null when nobody is typing.</summary>
    public DateTimeOffset? NextExpiry
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var typist in _typists.Values) if (next is null || typist.ExpiresAt < next) next = typist.ExpiresAt;
            return next;
        }
    }

    private readonly record struct Typist(DateTimeOffset ExpiresAt, DateTimeOffset LastSignal, DateTimeOffset AnnouncedAt);
}
