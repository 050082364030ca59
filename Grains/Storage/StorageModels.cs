namespace Messenger.Grains.Storage;

/// <summary>A conversation with its log position.</summary>
/// <param name="Info">Metadata (the full form) and the current members.</param>
/// <param name="LastSeq">Newest committed seq (0 when empty).</param>
/// <param name="FannedOutSeq">Fan-out to every member is complete up to here.</param>
/// <param name="Members">Every member the conversation has had, current ones and those who left or were removed, by user id.</param>
public sealed record ConversationRecord(ConversationInfo Info, long LastSeq, long FannedOutSeq, IReadOnlyList<MemberRecord> Members)
{
    /// <summary>Members who deleted their account (they stay in <see cref="ConversationInfo.Members"/>).</summary>
    public IReadOnlyList<string> DeletedMembers
    {
        get
        {
            var deleted = new List<string>(0);
            foreach (var member in Members) if (member.Deleted) deleted.Add(member.UserId);
            return deleted;
        }
    }

    /// <summary>The record for <paramref name="members"/> as stored: the full metadata derived from them.</summary>
    public static ConversationRecord Of(string conversationId, ConversationKind kind, DateTimeOffset createdAt, string? title,
        long lastSeq, long fannedOutSeq, List<MemberRecord> members)
    {
        members.Sort(static (a, b) => string.CompareOrdinal(a.UserId, b.UserId));
        return new ConversationRecord(InfoOf(conversationId, kind, createdAt, title, members), lastSeq, fannedOutSeq, members);
    }

    /// <summary>
    /// The full metadata of a conversation with these members (current ones ascending; a group's owners and admins).
    /// The one place that derives it, for the stores and for the conversation grain.
    /// </summary>
    public static ConversationInfo InfoOf(string conversationId, ConversationKind kind, DateTimeOffset createdAt, string? title,
        IEnumerable<MemberRecord> members)
    {
        var current = new List<string>();
        List<string>? owners = null, admins = null;
        foreach (var member in members)
        {
            if (!member.Current) continue;
            current.Add(member.UserId);
            if (kind != ConversationKind.Group) continue;
            if (member.Role == MemberRole.Owner) (owners ??= []).Add(member.UserId);
            else if (member.Role == MemberRole.Admin) (admins ??= []).Add(member.UserId);
        }
        current.Sort(StringComparer.Ordinal);
        owners?.Sort(StringComparer.Ordinal);
        admins?.Sort(StringComparer.Ordinal);
        var group = kind == ConversationKind.Group;
        return new ConversationInfo(conversationId, kind, current, createdAt, title, current.Count, group ? owners ?? [] : null, group ? admins ?? [] : null);
    }
}

/// <summary>A message not yet committed.</summary>
/// <param name="SenderId">The sender.</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="Text">The text.</param>
/// <param name="SentAt">Server time.</param>
/// <param name="Event">A membership event (with an empty text): the append applies it to the conversation's
/// members and title in the same transaction, so the members always agree with the log.</param>
public sealed record NewMessage(string SenderId, string ClientMsgId, string Text, DateTimeOffset SentAt, ConversationEvent? Event = null)
{
    /// <summary>The message as committed at <paramref name="seq"/>.</summary>
    public ChatMessage At(string conversationId, long seq) =>
        new(conversationId, seq, SenderId, ClientMsgId, Text, StoreTime.TruncateToMs(SentAt), Event);
}

/// <summary>The outcome of one message of an append.</summary>
/// <param name="Message">The committed message (the original for a duplicate).</param>
/// <param name="Duplicate">True when the message was already in the log.</param>
public readonly record struct AppendResult(ChatMessage Message, bool Duplicate);

/// <summary>Names one message: its conversation and seq.</summary>
public readonly record struct MessageKey(string ConversationId, long Seq)
{
    /// <summary>The messages of <paramref name="found"/> in the order of <paramref name="keys"/>, leaving out keys found nothing for.</summary>
    internal static List<ChatMessage> InKeyOrder(IReadOnlyList<MessageKey> keys, Dictionary<MessageKey, ChatMessage> found)
    {
        var result = new List<ChatMessage>(found.Count);
        foreach (var key in keys)
        {
            if (found.TryGetValue(key, out var message)) result.Add(message);
        }
        return result;
    }
}

/// <summary>One entry of a user's update log as stored: a pointer, never a message body.</summary>
/// <param name="UserSeq">Position in the user's log.</param>
/// <param name="Kind">What changed.</param>
/// <param name="ConversationId">The conversation it concerns.</param>
/// <param name="Seq">The message seq, or the new read mark.</param>
/// <param name="FromSelf">For a message: the user sent it (which also moves their read mark).</param>
/// <param name="Receipts">For <see cref="UpdateKind.Receipts"/>: the counts it carries (stored with the pointer: they are the user's own data).</param>
public readonly record struct UpdatePointer(long UserSeq, UpdateKind Kind, string ConversationId, long Seq, bool FromSelf,
    IReadOnlyList<MessageReceipt>? Receipts = null);

/// <summary>A member's receipt pointers in a conversation.</summary>
/// <param name="UserId">The member.</param>
/// <param name="DeliveredSeq">A device of theirs has received the log up to here.</param>
/// <param name="ReadSeq">Their read mark.</param>
public readonly record struct MemberReceipts(string UserId, long DeliveredSeq, long ReadSeq);

/// <summary>A user's entry for one conversation.</summary>
/// <param name="Conversation">The conversation, as the user's list shows it.</param>
/// <param name="LastSeq">Newest seq delivered to the user.</param>
/// <param name="ReadSeq">The user's read mark.</param>
/// <param name="Left">The user left the group or was removed from it (it stays in their list).</param>
/// <param name="MutedUntilMs">The end of the user's mute of it, in unix ms; 0 when not muted.</param>
public sealed record UserConversation(ConversationInfo Conversation, long LastSeq, long ReadSeq, bool Left = false, long MutedUntilMs = 0);

/// <summary>What a user grain loads on activation.</summary>
/// <param name="LastUserSeq">Newest <c>userSeq</c> (0 when the log is empty).</param>
/// <param name="CheckpointUserSeq">The conversation entries reflect every update up to here.</param>
/// <param name="Conversations">The checkpointed conversation entries.</param>
/// <param name="LastSeen">When the user's last device went away, if ever recorded.</param>
public sealed record UserRecord(long LastUserSeq, long CheckpointUserSeq, IReadOnlyList<UserConversation> Conversations, DateTimeOffset? LastSeen);

/// <summary>A write lost a race with another writer (a duplicate activation); the caller must reload.</summary>
public sealed class StoreConflictException(string message) : Exception(message);

/// <summary>
/// One row of a user's push outbox: the notification for one message (see <see cref="IPushOutboxStore"/>).
/// </summary>
/// <param name="ConversationId">The message's conversation.</param>
/// <param name="Seq">The message.</param>
/// <param name="UserSeq">Its pointer in the user's log.</param>
/// <param name="SenderId">Who sent it.</param>
/// <param name="SentAtMs">When it was committed (unix ms).</param>
/// <param name="State">Where the notification is.</param>
/// <param name="DueMs">While pending: when to decide or retry (unix ms).</param>
/// <param name="Attempts">Send attempts so far.</param>
/// <param name="Targets">While pending after the decision: the devices still to send to, space-separated; null before it.</param>
/// <param name="Detail">Why, in words (a failure, a collapse, the last retry's reason), or null.</param>
/// <param name="CreatedMs">When the row was written (unix ms).</param>
/// <param name="UpdatedMs">When its state last changed (unix ms).</param>
public sealed record PushRecord(
    string ConversationId,
    long Seq,
    long UserSeq,
    string SenderId,
    long SentAtMs,
    PushState State,
    long DueMs,
    int Attempts,
    string? Targets,
    string? Detail,
    long CreatedMs,
    long UpdatedMs);
