namespace Messenger.Grains;

/// <summary>
/// One user (key = user id): profile, device sessions, the update log (<c>userSeq</c>),
/// the conversation list with read marks, and live pushes to the gateways holding the user's sockets.
/// </summary>
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>The user's profile; throws <see cref="ErrorCode.UserNotFound"/> when there is no such user.</summary>
    Task<UserProfile> GetProfileAsync();

    /// <summary>
    /// Records a connected device session whose updates are pushed to <paramref name="gateway"/>.
    /// The session is a lease: it ends by <see cref="DetachDeviceAsync"/> or when not renewed in time.
    /// Returns the user's newest <c>userSeq</c>.
    /// </summary>
    Task<long> AttachDeviceAsync(string connectionId, string deviceId, IUpdateObserver gateway);

    /// <summary>Ends a device session (the socket closed).</summary>
    Task DetachDeviceAsync(string connectionId);

    /// <summary>Extends the leases of the given sessions; returns the ids that were unknown (expired).</summary>
    Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds);

    /// <summary>Updates after <paramref name="after"/>, at most <paramref name="limit"/>, in order.</summary>
    Task<SyncPage> SyncAsync(long after, int limit);

    /// <summary>The user's conversations, most recently active first.</summary>
    Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync();

    /// <summary>Moves the read mark of a conversation forward (never back) and tells every device.</summary>
    Task<long> MarkReadAsync(string conversationId, long seq);

    /// <summary>Adds a conversation to the user's list (idempotent). Called by the conversation grain.</summary>
    Task JoinConversationAsync(ConversationInfo conversation);

    /// <summary>
    /// Appends committed messages of one conversation to the update log, in seq order, skipping any
    /// already delivered, and pushes them to connected devices. Called by the conversation grain.
    /// Returns the <c>userSeq</c> of each message, aligned with <paramref name="messages"/>.
    /// </summary>
    Task<long[]> DeliverAsync(ConversationInfo conversation, IReadOnlyList<ChatMessage> messages);

    /// <summary>The <c>userSeq</c> under which a message was delivered to this user, or 0.</summary>
    Task<long> FindUserSeqAsync(string conversationId, long seq);
}

/// <summary>
/// Implemented by each gateway (one per process) and registered with the user grains of the users
/// whose sockets it holds; the grain calls it to push updates without any polling delay.
/// </summary>
public interface IUpdateObserver : IGrainObserver
{
    /// <summary>New updates for <paramref name="userId"/>; the gateway writes them to that user's sockets.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnUpdatesAsync(string userId, IReadOnlyList<UserUpdate> updates);
}
