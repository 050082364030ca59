namespace Messenger.Grains.Storage;

/// <summary>
/// Conversations: metadata and members, the append-only log of each conversation, and its fan-out
/// mark. Every row a method touches belongs to the conversation it names (or, for
/// <see cref="ReadMessagesByKeyAsync"/>, to the conversations of its keys), so a backend may spread
/// conversations over databases by hash of their id. Every write is durable when its task completes.
/// </summary>
public interface IConversationStore
{
    /// <summary>
    /// Creates a conversation with its members (each a member from seq 1, role member); does nothing if it
    /// exists. A group is created with none: its first entry, the <see cref="ConversationEventType.Created"/>
    /// event, makes them members.
    /// </summary>
    Task CreateConversationAsync(ConversationInfo conversation);

    /// <summary>A conversation with its log position, fan-out mark, title and every member it has had, or null.</summary>
    Task<ConversationRecord?> GetConversationAsync(string conversationId);

    /// <summary>
    /// Records that a member deleted their account. They stay a member (the messages they sent stay in the
    /// log, and the member list does not change); <see cref="GetConversationAsync"/> names them in
    /// <see cref="ConversationRecord.DeletedMembers"/>. Does nothing for a non-member. Idempotent.
    /// </summary>
    Task MarkMemberDeletedAsync(string conversationId, string userId);

    /// <summary>
    /// Appends a batch to a conversation log in one transaction. Each message whose
    /// <c>(senderId, clientMsgId)</c> is already in the log comes back as that original, marked
    /// duplicate; the others get consecutive seqs from <paramref name="lastSeq"/> + 1.
    /// Throws <see cref="StoreConflictException"/>, writing nothing, when the log does not end at
    /// <paramref name="lastSeq"/> (another writer appended, or the caller is ahead): history never forks.
    /// A message carrying a <see cref="NewMessage.Event"/> is applied in the same transaction
    /// (<see cref="MembershipChange.Of"/>): members join at its seq (a former member rejoins, their row reused),
    /// leave at its seq, change role; the title changes.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(string conversationId, long lastSeq, IReadOnlyList<NewMessage> messages);

    /// <summary>
    /// Up to <paramref name="limit"/> messages strictly before or after <paramref name="cursor"/>,
    /// nearest to it first, returned in ascending seq order.
    /// </summary>
    Task<IReadOnlyList<ChatMessage>> ReadMessagesAsync(string conversationId, long cursor, HistoryDirection direction, int limit);

    /// <summary>
    /// The messages named by <paramref name="keys"/> (of any conversations), in the order of the keys;
    /// keys naming no message are left out. This is how a user's update log, which holds only
    /// pointers, gets its message bodies.
    /// </summary>
    Task<IReadOnlyList<ChatMessage>> ReadMessagesByKeyAsync(IReadOnlyList<MessageKey> keys);

    /// <summary>
    /// Saves members' receipt pointers (each only moves forward; a non-member's is ignored);
    /// <see cref="GetConversationAsync"/> returns them in <see cref="MemberRecord.DeliveredSeq"/> and <see cref="MemberRecord.ReadSeq"/>.
    /// </summary>
    Task SaveReceiptsAsync(string conversationId, IReadOnlyList<MemberReceipts> receipts);

    /// <summary>Records that fan-out to every member is complete up to <paramref name="seq"/> (never moves back).</summary>
    Task SetFannedOutAsync(string conversationId, long seq);

    /// <summary>
    /// Ids of conversations whose fan-out mark is behind their log, in ascending ordinal order, each greater than
    /// <paramref name="after"/> (null: from the first), at most <paramref name="limit"/>: a page. Paging on with the
    /// last id of each page until a page is short visits every such conversation once, however many there are.
    /// </summary>
    Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(string? after, int limit);
}
