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
    /// The session lasts until <see cref="DetachDeviceAsync"/>, or until the silo finds the gateway gone: each silo
    /// holding sessions of a gateway calls its <see cref="IUpdateObserver.OnHeartbeatAsync"/> (one call per silo and
    /// gateway, however many users), and a gateway that has not answered for <c>Messenger:DeviceLease</c>, three heartbeats
    /// in a row, is gone.
    /// Returns the user's newest <c>userSeq</c>. Throws <see cref="ErrorCode.LoggedOut"/> when a token of
    /// <paramref name="deviceId"/> at <paramref name="generation"/> is no longer good (see <see cref="DeviceGrants"/>).
    /// </summary>
    Task<long> AttachDeviceAsync(string connectionId, string deviceId, long generation, IUpdateObserver gateway);

    /// <summary>Ends a device session (the socket closed).</summary>
    Task DetachDeviceAsync(string connectionId);

    /// <summary>
    /// Checks the given sessions (a gateway's periodic reconciliation; the name is from when sessions were renewed
    /// this way, kept so that gateways and silos of both versions work together during a rollout). It also counts as
    /// hearing from the gateway that holds them. Returns the ids this activation does not know (it is a new one, or
    /// the sessions ended), which the gateway then attaches again.
    /// </summary>
    Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds);

    /// <summary>
    /// Called by the silo when a gateway holding a session or presence watch of this user stopped answering
    /// its heartbeat: the user grain ends them (presence follows, debounced).
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task GatewayLostAsync();

    /// <summary>Updates after <paramref name="after"/>, at most <paramref name="limit"/>, in order.</summary>
    Task<SyncPage> SyncAsync(long after, int limit);

    /// <summary>The user's conversations, most recently active first.</summary>
    Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync();

    /// <summary>Moves the read mark of a conversation forward (never back) and tells every device.</summary>
    Task<long> MarkReadAsync(string conversationId, long seq);

    /// <summary>
    /// Mutes a conversation of the user's list until <paramref name="until"/> (null: until unmuted), or unmutes it
    /// (<paramref name="muted"/> false); every device of the user gets a <see cref="UpdateKind.Mute"/> update (none when
    /// nothing changed). Returns the end of the mute now in force, null when not muted. Throws
    /// <see cref="ErrorCode.NotMember"/> and, for an <paramref name="until"/> not in the future, <see cref="ErrorCode.OutOfRange"/>.
    /// </summary>
    Task<DateTimeOffset?> SetMuteAsync(string conversationId, bool muted, DateTimeOffset? until);

    /// <summary>Adds a direct conversation to the user's list (idempotent). Called by the conversation grain.</summary>
    Task JoinConversationAsync(ConversationInfo conversation);

    /// <summary>
    /// Appends committed messages of one conversation to the update log, in seq order, skipping any
    /// the log already holds, and pushes them to the user's live devices. Called by the conversation
    /// grain, one batch at a time per user, with the conversation as a user's list holds it
    /// (<see cref="ConversationInfo.ForList"/>; a group's title and member count as of now), which the list
    /// takes. A membership event about this user marks the group left (removed, left) or not (added).
    /// Returns the <c>userSeq</c> of each message and whether the user had a live device; this conversation
    /// is then told when that changes (<see cref="IConversationGrain.MemberLivenessChangedAsync"/>).
    /// <paramref name="receipts"/>, when not null, are changed counts of the user's own messages in the conversation,
    /// appended after the messages as one receipts update and pushed with them, as <see cref="AddReceiptsAsync"/> would.
    /// </summary>
    Task<DeliveryReceipt> DeliverAsync([Immutable] ConversationInfo conversation, [Immutable] IReadOnlyList<ChatMessage> messages,
        [Immutable] IReadOnlyList<MessageReceipt>? receipts);

    /// <summary>
    /// How many members received and read some of this user's messages in a conversation changed: appended to the
    /// update log as a receipts update and pushed to the live devices (ignored for a conversation the user is not in).
    /// Called by the conversation grain.
    /// </summary>
    Task AddReceiptsAsync(string conversationId, [Immutable] IReadOnlyList<MessageReceipt> receipts);

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
    /// status at registration, so no change between the two is missed. The registration lasts until
    /// <see cref="UnwatchPresenceAsync"/> or until the silo finds the gateway gone, like a device session.
    /// </summary>
    Task<PresenceStatus> WatchPresenceAsync(IUpdateObserver gateway);

    /// <summary>Ends a gateway's watch (its last watching socket left).</summary>
    Task UnwatchPresenceAsync(IUpdateObserver gateway);

    /// <summary>Pushes a typing event to this user's live devices. Called by the conversation grain.</summary>
    Task PushTypingAsync(TypingEvent typing);

    // ---- devices and the account ----

    /// <summary>
    /// A login of <paramref name="deviceId"/>: records the device (or refreshes its record, keeping its name
    /// when <paramref name="name"/> is null) and returns the generation its token carries. A new device
    /// beyond the limit logs out the least recently active one. Throws <see cref="ErrorCode.UserNotFound"/>.
    /// </summary>
    Task<long> LogInDeviceAsync(string deviceId, string? name);

    /// <summary>The user's logged-in devices, most recently active first.</summary>
    Task<IReadOnlyList<DeviceInfo>> ListDevicesAsync();

    /// <summary>
    /// Logs a device out: every token it was given stops working on every gateway (each gateway holding
    /// this user's grants has applied the change when this returns), and its sessions end. Throws
    /// <see cref="ErrorCode.DeviceNotFound"/> for a device that is not logged in.
    /// </summary>
    Task LogOutDeviceAsync(string deviceId);

    /// <summary>
    /// The user's current grants (for a user without an account: none), with <paramref name="gateway"/>
    /// registered for a lease (<c>Messenger:DeviceLease</c>) to be told of every change. A gateway calls it
    /// on first sight of the user and again when its copy is older than its trust interval;
    /// <paramref name="deviceId"/> names the device whose token it is checking.
    /// </summary>
    [ReadOnly]
    Task<DeviceGrants> WatchDevicesAsync(IUpdateObserver gateway, string deviceId);

    /// <summary>
    /// Deletes the account: every token stops working (as for a logout) and every session ends, the user's
    /// conversations are told (a direct one takes no more messages; the messages stay), the account goes
    /// (the username is free again, the profile is not found) and the user's update log, conversation list
    /// and devices are removed. If a step fails after the tokens were revoked, the grain finishes on its own.
    /// </summary>
    Task DeleteAccountAsync();

    // ---- push notifications ----

    /// <summary>
    /// Sets the push subscription of a logged-in device (replacing its previous one). Throws
    /// <see cref="ErrorCode.InvalidSubscription"/> (nothing changes) and <see cref="ErrorCode.DeviceNotFound"/>.
    /// </summary>
    Task<DevicePushSubscription> SetPushSubscriptionAsync(string deviceId, PushSubscription subscription);

    /// <summary>The user's push subscriptions, one per device that has one.</summary>
    Task<IReadOnlyList<DevicePushSubscription>> ListPushSubscriptionsAsync();

    /// <summary>Removes a device's push subscription; throws <see cref="ErrorCode.SubscriptionNotFound"/> when it has none.</summary>
    Task DeletePushSubscriptionAsync(string deviceId);

    /// <summary>The user's push settings.</summary>
    Task<PushSettings> GetPushSettingsAsync();

    /// <summary>Replaces the user's push settings; returns them.</summary>
    Task<PushSettings> SetPushSettingsAsync(PushSettings settings);

    /// <summary>
    /// The push state of the user's notifications for messages of a conversation after <paramref name="afterSeq"/>,
    /// oldest first, at most <paramref name="limit"/> (only messages that may have needed one: from others, while
    /// the user had a subscription). Throws <see cref="ErrorCode.NotMember"/> for a conversation not in the user's list.
    /// </summary>
    Task<IReadOnlyList<PushStatus>> ListPushStatusesAsync(string conversationId, long afterSeq, int limit);

    /// <summary>Takes up notifications left pending (the silo's scan after a restart calls it); activating the grain is enough.</summary>
    Task ResumePushAsync();

    /// <summary>What the push services and webhooks answered to one notification (from the silo's push sender).</summary>
    Task PushAttemptedAsync(string conversationId, long seq, [Immutable] IReadOnlyList<PushAttempt> attempts);
}

/// <summary>
/// Implemented by each gateway (one per process) and registered with the user grains of the users
/// whose sockets it holds; the grain calls it to push updates without any polling delay.
/// </summary>
public interface IUpdateObserver : IGrainObserver
{
    /// <summary>
    /// New updates for users whose sockets this gateway holds; it queues each on its user's sockets
    /// and, when the batch asks (<see cref="UpdateBatch.AskReceived"/>), returns the users of the batch for whom no
    /// WebSocket took them (none here any more, or only long-poll sessions, which fetch them later): empty when
    /// every user's frame went onto a socket, or when the batch did not ask. Each
    /// silo sends a gateway its next batch only when this call has returned, so the batches from one silo
    /// arrive in order (a user's updates in <c>userSeq</c> order).
    /// </summary>
    Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch);

    /// <summary>A watched user's published presence changed; the gateway tells the sockets watching them.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnPresenceAsync(PresenceStatus status);

    /// <summary>A typing event for <paramref name="userId"/>'s sockets.</summary>
    [Orleans.Concurrency.OneWay]
    Task OnTypingAsync(string userId, TypingEvent typing);

    /// <summary>
    /// <paramref name="grants"/>' user logged a device out or deleted the account: the gateway applies the new
    /// grants to its cache before returning (so a revoked token is refused from then on) and closes that
    /// user's sessions they no longer allow. The user grain waits for this before answering the logout.
    /// </summary>
    Task OnDevicesChangedAsync(DeviceGrants grants);

    /// <summary>
    /// <paramref name="userId"/>'s grain is deactivating (its silo is stopping, or it was idle) while this
    /// gateway holds a device session, a presence watch or a watch of its devices on it, which live only in that
    /// activation: the gateway attaches its sessions and renews its watches again now (its copy of the user's
    /// device grants is no longer trusted and is fetched again on the next request), which reaches the next activation.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task OnUserReleasedAsync(string userId);

    /// <summary>
    /// A silo holding device sessions or presence watches of this gateway checks that it is still there (every
    /// third of <c>Messenger:DeviceLease</c>); a gateway that stops answering loses them after one lease and three
    /// unanswered heartbeats (a silo too busy to ask does not count its own silence against the gateway).
    /// </summary>
    Task OnHeartbeatAsync();
}
