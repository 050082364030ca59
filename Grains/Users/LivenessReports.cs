namespace Messenger.Grains.Users;

/// <summary>
/// What a user last told each conversation about having a live device, so that when it changes only
/// the conversations holding the old answer are told. Answers older than the time to live are
/// forgotten: such a conversation has likely been deactivated, and learns again on its next delivery.
/// For use inside one grain activation.
/// </summary>
internal sealed class LivenessReports(TimeSpan timeToLive, TimeProvider time)
{
    private readonly Dictionary<string, (bool Live, long At)> _told = new(StringComparer.Ordinal);

    public int Count => _told.Count;

    /// <summary>The conversation was just told <paramref name="live"/>.</summary>
    public void Record(string conversationId, bool live) => _told[conversationId] = (live, time.GetTimestamp());

    /// <summary>
    /// The conversations told otherwise than <paramref name="live"/>, recorded as told <paramref name="live"/>
    /// now (the caller tells them); forgets answers past their time to live.
    /// </summary>
    public List<string> TakeStale(bool live)
    {
        var now = time.GetTimestamp();
        List<string> stale = [];
        List<string>? expired = null;
        foreach (var (conversationId, told) in _told)
        {
            if (time.GetElapsedTime(told.At, now) > timeToLive) (expired ??= []).Add(conversationId);
            else if (told.Live != live) stale.Add(conversationId);
        }
        if (expired is not null) foreach (var id in expired) _told.Remove(id);
        foreach (var id in stale) _told[id] = (live, now);
        return stale;
    }
}
