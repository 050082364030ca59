namespace Messenger.Grains.Storage;

/// <summary>
/// The one seam for durable data: accounts, conversation metadata, the append-only conversation
/// logs and the per-user update logs. Every backend passes the same contract tests
/// (<c>Tests/Storage</c>). Every write is durable when its task completes.
/// </summary>
public interface IMessageStore
{
    /// <summary>Creates the schema or brings it up to date. Called once at start-up.</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts an account; false when the username is taken.</summary>
    Task<bool> CreateAccountAsync(AccountCredentials account);

    /// <summary>The account with this (normalised) username, or null.</summary>
    Task<AccountCredentials?> FindAccountByUsernameAsync(string username);

    /// <summary>The account with this user id, or null.</summary>
    Task<AccountCredentials?> FindAccountAsync(string userId);

    /// <summary>Creates a conversation with its members; does nothing if it exists.</summary>
    Task CreateConversationAsync(ConversationInfo conversation);

    /// <summary>A conversation with its log position and fan-out mark, or null.</summary>
    Task<ConversationRecord?> GetConversationAsync(string conversationId);

    /// <summary>
    /// Appends a batch to a conversation log in one transaction. Each message whose
    /// <c>(senderId, clientMsgId)</c> is already in the log comes back as that original, marked
    /// duplicate; the others get consecutive seqs from <paramref name="lastSeq"/> + 1.
    /// Throws <see cref="StoreConflictException"/> when the log already goes past <paramref name="lastSeq"/>
    /// (another writer): history never forks.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(string conversationId, long lastSeq, IReadOnlyList<NewMessage> messages);

    /// <summary>
    /// Up to <paramref name="limit"/> messages strictly before or after <paramref name="cursor"/>,
    /// nearest to it first, returned in ascending seq order.
    /// </summary>
    Task<IReadOnlyList<ChatMessage>> ReadMessagesAsync(string conversationId, long cursor, HistoryDirection direction, int limit);

    /// <summary>Records that fan-out is complete up to <paramref name="seq"/> (never moves back).</summary>
    Task SetFannedOutAsync(string conversationId, long seq);

    /// <summary>Ids of conversations whose fan-out mark is behind their log.</summary>
    Task<IReadOnlyList<string>> ListConversationsPendingFanOutAsync(int limit);

    /// <summary>
    /// Appends updates to a user's log and saves the changed conversation entries in one transaction.
    /// Throws <see cref="StoreConflictException"/> when a <c>userSeq</c> is already taken.
    /// </summary>
    Task AppendUserUpdatesAsync(string userId, IReadOnlyList<UserUpdate> updates, IReadOnlyList<UserConversation> changed);

    /// <summary>Up to <paramref name="limit"/> updates after <paramref name="afterUserSeq"/>, messages included.</summary>
    Task<IReadOnlyList<UserUpdate>> ReadUserUpdatesAsync(string userId, long afterUserSeq, int limit);

    /// <summary>The newest <c>userSeq</c> of a user and their conversation entries.</summary>
    Task<UserRecord> LoadUserAsync(string userId);

    /// <summary>The <c>userSeq</c> of a delivered message, or 0.</summary>
    Task<long> FindUserSeqAsync(string userId, string conversationId, long seq);

    /// <summary>Records when the user was last seen (loaded back by <see cref="LoadUserAsync"/>).</summary>
    Task SetLastSeenAsync(string userId, DateTimeOffset lastSeen);
}

/// <summary>A conversation with its log position.</summary>
/// <param name="Info">Metadata and members.</param>
/// <param name="LastSeq">Newest committed seq (0 when empty).</param>
/// <param name="FannedOutSeq">Fan-out to every member is complete up to here.</param>
public sealed record ConversationRecord(ConversationInfo Info, long LastSeq, long FannedOutSeq);

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

/// <summary>A user's entry for one conversation.</summary>
/// <param name="Conversation">The conversation.</param>
/// <param name="LastSeq">Newest seq delivered to the user.</param>
/// <param name="ReadSeq">The user's read mark.</param>
/// <param name="LastMessage">Newest delivered message, when loaded.</param>
public sealed record UserConversation(ConversationInfo Conversation, long LastSeq, long ReadSeq, ChatMessage? LastMessage);

/// <summary>What a user grain loads on activation.</summary>
/// <param name="LastUserSeq">Newest <c>userSeq</c> (0 when the log is empty).</param>
/// <param name="Conversations">The user's conversation entries.</param>
/// <param name="LastSeen">When the user's last device went away, if ever recorded.</param>
public sealed record UserRecord(long LastUserSeq, IReadOnlyList<UserConversation> Conversations, DateTimeOffset? LastSeen = null);

/// <summary>A write lost a race with another writer (a duplicate activation); the caller must reload.</summary>
public sealed class StoreConflictException(string message) : Exception(message);
