namespace Messenger.Grains.Storage;

/// <summary>
/// Each user's update log (pointers to messages and read marks, numbered by a gapless
/// <c>userSeq</c>), a checkpoint of the user's conversation list, and "last seen". Every row a
/// method touches belongs to the user it names, so a backend may spread users over databases by
/// hash of their id; nothing here reads a conversation's rows (message bodies come from
/// <see cref="IConversationStore.ReadMessagesByKeyAsync"/>). Every write is durable when its task completes.
/// </summary>
public interface IUserLogStore
{
    /// <summary>
    /// Appends updates to a user's log and saves <paramref name="entries"/> (as <see cref="SaveConversationsAsync"/>
    /// does, without moving the checkpoint) in one transaction: a change a pointer cannot carry (a group's
    /// title, leaving it) is then never lost to a crash before the next checkpoint. Throws
    /// <see cref="StoreConflictException"/>, writing nothing of the call, when a <c>userSeq</c> is taken: another
    /// activation of the user wrote first. (Two activations number their updates on from the same durable end
    /// of the log, so whichever writes second collides on a <c>userSeq</c> before it could point at a message twice.)
    /// <paramref name="pushes"/> are new rows of the user's push outbox (<see cref="IPushOutboxStore"/>), written in the
    /// same transaction: a notification is never lost between a pointer's commit and its outbox row.
    /// </summary>
    Task AppendUpdatesAsync(string userId, IReadOnlyList<UpdatePointer> updates, IReadOnlyList<UserConversation> entries,
        IReadOnlyList<PushRecord>? pushes = null);

    /// <summary>Up to <paramref name="limit"/> updates after <paramref name="afterUserSeq"/>, in <c>userSeq</c> order.</summary>
    Task<IReadOnlyList<UpdatePointer>> ReadUpdatesAsync(string userId, long afterUserSeq, int limit);

    /// <summary>
    /// The <c>userSeq</c> under which a message was delivered to the user, or 0. For retried sends:
    /// may take time proportional to how far back in the user's log the message lies.
    /// </summary>
    Task<long> FindUserSeqAsync(string userId, string conversationId, long seq);

    /// <summary>
    /// The user's newest <c>userSeq</c>, the checkpointed conversation list and the checkpoint it is
    /// complete up to (updates after it must be replayed over the list), and "last seen".
    /// </summary>
    Task<UserRecord> LoadUserAsync(string userId);

    /// <summary>
    /// Saves conversation entries (inserted, or updated: a saved <c>lastSeq</c> or <c>readSeq</c>
    /// never moves back; the metadata, member count and "left" are as of the entry's <c>lastSeq</c>, so an entry
    /// with a lower one than saved — a checkpoint racing a newer save — leaves them; the mute is replaced) and, when <paramref name="checkpointUserSeq"/> is above the stored one, moves
    /// the checkpoint there: the caller asserts that the saved entries reflect every update up to it.
    /// </summary>
    Task SaveConversationsAsync(string userId, IReadOnlyList<UserConversation> entries, long checkpointUserSeq);

    /// <summary>Records when the user was last seen (loaded back by <see cref="LoadUserAsync"/>).</summary>
    Task SetLastSeenAsync(string userId, DateTimeOffset lastSeen);

    /// <summary>
    /// Moves "last seen" to <paramref name="seenAt"/> for those of <paramref name="userIds"/> who have one recorded
    /// (users online now, so that after a crash it is off by little); records none for a user who has none, so a
    /// deleted user stays deleted. The users may live in different partitions.
    /// </summary>
    Task RecordSeenAsync(IReadOnlyList<string> userIds, DateTimeOffset seenAt);

    /// <summary>
    /// Deletes everything stored for the user (a deleted account): the update log, the conversation list
    /// and its checkpoint, "last seen", the push outbox. <see cref="LoadUserAsync"/> then finds an empty user. Idempotent.
    /// </summary>
    Task DeleteUserAsync(string userId);
}
