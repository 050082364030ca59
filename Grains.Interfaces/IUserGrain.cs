using Orleans.Concurrency;

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
    /// the log already holds, and pushes them to the user's live devices. Called by the conversation
    /// grain, one batch at a time per user. Returns the <c>userSeq</c> of each message and whether the
    /// user had a live device; this conversation is then told when that changes
    /// (<see cref="IConversationGrain.MemberLivenessChangedAsync"/>).
    /// </summary>
    Task<DeliveryReceipt> DeliverAsync(string conversationId, [Immutable] IReadOnlyList<ChatMessage> messages);

    /// <summary>
    /// Whether the user has a live device now; the conversation is then told when that changes
    /// (<see cref="IConversationGrain.MemberLivenessChangedAsync"/>). Called by a conversation grain.
    /// </summary>
    Task<bool> ReportLivenessAsync(string conversationId);

    /// <summary>The <c>userSeq</c> under which a message was delivered to this user, or 0.</summary>
    Task<long> FindUserSeqAsync(string conversationId, long seq);

    /// <summary>
    /// Checks that every one of <paramref name="userIds"/> shares a conversation with this user (or is
    /// this user); throws <see cref="ErrorCode.NotContact"/> naming the first that does not.
    /// </summary>
    Task CheckContactsAsync(IReadOnlyList<string> userIds);

    /// <summary>This user's published presence.</summary>
    Task<PresenceStatus> GetPresenceAsync();

    /// <summary>
    /// Registers (or renews) a gateway that has sockets watching this user's presence; returns the
    /// status at registration, so no change between the two is missed. The registration is a lease
    /// like a device session.
    /// </summary>
    Task<PresenceStatus> WatchPresenceAsync(IUpdateObserver gateway);

    /// <summary>Ends a gateway's watch (its last watching socket left).</summary>
    Task UnwatchPresenceAsync(IUpdateObserver gateway);

    /// <summary>Pushes a typing event to this user's live devices. Called by the conversation grain.</summary>
    Task PushTypingAsync(TypingEvent typing);
}

/// <summary>
/// Implemented by each gateway (one per process) and registered with the user grains of the users
/// whose sockets it holds; the grain calls it to push updates without any polling delay.
/// </summary>
public interface IUpdateObserver : IGrainObserver
{
    /// <summary>
    /// New updates for users whose sockets this gateway holds; it queues each on its user's sockets
    /// and returns. Each silo sends a gateway its next batch only when this call has returned, so
    /// the batches from one silo arrive in order (a user's updates in <c>userSeq</c> order).
    /// </summary>
    Task OnUpdatesAsync(UpdateBatch batch);

    /// <summary>A watched user's published presence changed; the gateway tells the sockets watching them.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnPresenceAsync(PresenceStatus status);

    /// <summary>A typing event for <paramref name="userId"/>'s sockets.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnTypingAsync(string userId, TypingEvent typing);

    /// <summary>
    /// <paramref name="userId"/>'s grain is deactivating (its silo is stopping, or it was idle) while this
    /// gateway holds a device session or a presence watch on it, which live only in that activation:
    /// the gateway attaches its sessions and renews its watch again now, which reaches the next activation.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task OnUserReleasedAsync(string userId);
}
