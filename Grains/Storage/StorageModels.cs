namespace Messenger.Grains.Storage;

/// <summary>A conversation with its log position.</summary>
/// <param name="Info">Metadata and members.</param>
/// <param name="LastSeq">Newest committed seq (0 when empty).</param>
/// <param name="FannedOutSeq">Fan-out to every member is complete up to here.</param>
/// <param name="DeletedMembers">Members who deleted their account (still in <see cref="ConversationInfo.Members"/>).</param>
public sealed record ConversationRecord(ConversationInfo Info, long LastSeq, long FannedOutSeq, IReadOnlyList<string> DeletedMembers);

/// <summary>A message not yet committed.</summary>
/// <param name="SenderId">The sender.</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="Text">The text.</param>
/// <param name="SentAt">Server time.</param>
public sealed record NewMessage(string SenderId, string ClientMsgId, string Text, DateTimeOffset SentAt);

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
public readonly record struct UpdatePointer(long UserSeq, UpdateKind Kind, string ConversationId, long Seq, bool FromSelf);

/// <summary>A user's entry for one conversation.</summary>
/// <param name="Conversation">The conversation, as the user's list shows it.</param>
/// <param name="LastSeq">Newest seq delivered to the user.</param>
/// <param name="ReadSeq">The user's read mark.</param>
public sealed record UserConversation(ConversationInfo Conversation, long LastSeq, long ReadSeq);

/// <summary>What a user grain loads on activation.</summary>
/// <param name="LastUserSeq">Newest <c>userSeq</c> (0 when the log is empty).</param>
/// <param name="CheckpointUserSeq">The conversation entries reflect every update up to here.</param>
/// <param name="Conversations">The checkpointed conversation entries.</param>
/// <param name="LastSeen">When the user's last device went away, if ever recorded.</param>
public sealed record UserRecord(long LastUserSeq, long CheckpointUserSeq, IReadOnlyList<UserConversation> Conversations, DateTimeOffset? LastSeen);

/// <summary>A write lost a race with another writer (a duplicate activation); the caller must reload.</summary>
public sealed class StoreConflictException(string message) : Exception(message);
