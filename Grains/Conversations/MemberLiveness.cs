namespace Messenger.Grains.Conversations;

/// <summary>
/// What a conversation knows of whether each member has a live device: from each delivery's
/// receipt, from the members' own reports when it changes, and from one query on the first send
/// after activation. Feeds the acks' <c>offlineRecipients</c> without waiting for any delivery.
/// </summary>
internal sealed class MemberLiveness
{
    private readonly Dictionary<string, bool> _live = new(StringComparer.Ordinal);

    public void Set(string userId, bool live) => _live[userId] = live;

    /// <summary>Members other than <paramref name="senderId"/> known to have no live device.</summary>
    public IReadOnlyList<string> OfflineOthers(IReadOnlyList<string> members, string senderId)
    {
        List<string>? offline = null;
        foreach (var member in members)
        {
            if (member != senderId && _live.TryGetValue(member, out var live) && !live) (offline ??= []).Add(member);
        }
        return offline ?? (IReadOnlyList<string>)[];
    }
}
