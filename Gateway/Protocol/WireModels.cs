namespace Messenger.Gateway.Protocol;

// Wire types: what clients see. Kept apart from the grain models; WireMapping converts explicitly.
// Request bodies (*Request) read every property as nullable, so that a missing one is refused with the endpoint's own
// clear error rather than a generic one; a client must send each, not null, unless it is marked [WireOptional].

/// <summary>A request body's property that a client may leave out (or send as null); the others it must send.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WireOptionalAttribute : Attribute;

/// <summary>A committed message on the wire; a group's membership event has <c>event</c> and an empty text.</summary>
public sealed record WireMessage(string ConversationId, long Seq, string SenderId, string ClientMsgId, string Text, DateTimeOffset SentAt, WireEvent? Event);

/// <summary>
/// A membership event: <c>type</c> is <c>created</c>, <c>members_added</c>, <c>member_removed</c>, <c>member_left</c>,
/// <c>renamed</c> or <c>role_changed</c>; the message's sender did it.
/// </summary>
public sealed record WireEvent(string Type, IReadOnlyList<string> UserIds, string? Title, string? Role);

/// <summary>One entry of the user's update log on the wire; <c>kind</c> is <c>message</c>, <c>read</c>, <c>receipts</c> or <c>mute</c>.</summary>
public sealed record WireUpdate(long UserSeq, string Kind, string ConversationId, long Seq, WireMessage? Message, IReadOnlyList<WireReceipt>? Receipts,
    DateTimeOffset? MutedUntil);

/// <summary>The answer to a mute or unmute: the end of the mute in force, missing when not muted.</summary>
public sealed record WireMute(string ConversationId, DateTimeOffset? MutedUntil);

/// <summary>PUT /v1/conversations/{id}/mute: until when (missing: until unmuted).</summary>
public sealed record MuteRequest([property: WireOptional] DateTimeOffset? Until);

/// <summary>How far one of the user's own messages has got: received by <c>delivered</c> and read by <c>read</c> of the <c>of</c> other members it was for.</summary>
public sealed record WireReceipt(long Seq, int Delivered, int Read, int Of);

/// <summary>GET /v1/conversations/{id}/messages/{seq}/receipts.</summary>
public sealed record WireMessageReceipts(string ConversationId, long Seq, string SenderId, int Of, IReadOnlyList<string> DeliveredTo, IReadOnlyList<string> ReadBy);

/// <summary>The answer to a send, once the message is durable.</summary>
public sealed record WireAck(string ConversationId, long Seq, long UserSeq, string ClientMsgId, DateTimeOffset SentAt, bool Duplicate,
    IReadOnlyList<string> OfflineRecipients);

/// <summary>A user's presence.</summary>
public sealed record WirePresence(string UserId, bool Online, DateTimeOffset? LastSeen);

/// <summary>GET /v1/presence.</summary>
public sealed record WirePresenceList(IReadOnlyList<WirePresence> Users);

/// <summary>A page of the update log.</summary>
public sealed record WireSyncPage(IReadOnlyList<WireUpdate> Updates, bool HasMore, long UserSeq);

/// <summary>
/// The answer to a long-poll: a page of the update log after the cursor (as <see cref="WireSyncPage"/>) and
/// the presence and typing frames pushed to this device since its last poll, exactly as a socket gets them.
/// </summary>
public sealed record WirePollResult(IReadOnlyList<WireUpdate> Updates, bool HasMore, long UserSeq, IReadOnlyList<System.Text.Json.JsonElement> Events);

/// <summary>POST /v1/presence/query: the users whose presence is asked for.</summary>
public sealed record PresenceQueryRequest(IReadOnlyList<string>? UserIds);

/// <summary>PUT /v1/poll/presence: the users a polling device subscribes to.</summary>
public sealed record PresenceSubscriptionRequest(IReadOnlyList<string>? UserIds);

/// <summary>A page of a conversation's history, ascending by seq.</summary>
public sealed record WireHistoryPage(string ConversationId, IReadOnlyList<WireMessage> Messages, bool HasMore, long LastSeq);

/// <summary>Conversation metadata; a group's also has its title, owners and admins.</summary>
public sealed record WireConversation(string ConversationId, string Kind, IReadOnlyList<string> Members, DateTimeOffset CreatedAt,
    int MemberCount, string? Title, IReadOnlyList<string>? Owners, IReadOnlyList<string>? Admins);

/// <summary>A conversation in the caller's list; a group's has its title and member count but no member list.</summary>
public sealed record WireConversationSummary(
    string ConversationId, string Kind, IReadOnlyList<string>? Members, int MemberCount, string? Title, bool Left,
    long LastSeq, long ReadSeq, long Unread, WireMessage? LastMessage, DateTimeOffset? MutedUntil);

/// <summary>The answer to a group command: the group after it and the events it appended (each as the actor's ack).</summary>
public sealed record WireGroupChange(WireConversation Conversation, IReadOnlyList<WireAck> Events);

/// <summary>POST /v1/conversations/groups.</summary>
public sealed record CreateGroupRequest(string? Title, IReadOnlyList<string>? UserIds);

/// <summary>POST /v1/conversations/{id}/members.</summary>
public sealed record AddMembersRequest(IReadOnlyList<string>? UserIds);

/// <summary>PATCH /v1/conversations/{id}.</summary>
public sealed record RenameGroupRequest(string? Title);

/// <summary>PUT /v1/conversations/{id}/members/{userId}/role.</summary>
public sealed record SetRoleRequest(string? Role);

/// <summary>The caller's conversations.</summary>
public sealed record WireConversationList(IReadOnlyList<WireConversationSummary> Conversations);

/// <summary>A user.</summary>
public sealed record WireUser(string UserId, string Username, DateTimeOffset CreatedAt);

/// <summary>A read mark.</summary>
public sealed record WireReadMark(string ConversationId, long ReadSeq);

/// <summary>A device's session token.</summary>
public sealed record WireSession(string Token, string UserId, string Username, string DeviceId, DateTimeOffset ExpiresAt);

/// <summary>POST /v1/accounts.</summary>
public sealed record RegisterRequest(string? Username, string? Password);

/// <summary>POST /v1/sessions.</summary>
public sealed record LoginRequest(string? Username, string? Password, [property: WireOptional] string? DeviceId, [property: WireOptional] string? DeviceName);

/// <summary>One of the caller's logged-in devices; <c>current</c> marks the one whose token asked.</summary>
public sealed record WireDevice(string DeviceId, string? Name, DateTimeOffset CreatedAt, DateTimeOffset LastActiveAt, bool Live, bool Current);

/// <summary>GET /v1/devices.</summary>
public sealed record WireDeviceList(IReadOnlyList<WireDevice> Devices);

/// <summary>DELETE /v1/me: the password again, so that a token alone cannot delete the account.</summary>
public sealed record DeleteAccountRequest(string? Password);

/// <summary>POST /v1/conversations/direct.</summary>
public sealed record OpenDirectRequest(string? UserId);

/// <summary>POST /v1/conversations/{id}/messages.</summary>
public sealed record SendMessageRequest(string? ClientMsgId, string? Text);

/// <summary>POST /v1/conversations/{id}/read.</summary>
public sealed record MarkReadRequest(long? Seq);

/// <summary>GET /healthz.</summary>
public sealed record HealthReport(string Status);

/// <summary>
/// Every frame a client may send; which fields are needed depends on <see cref="Type"/>
/// (see docs/PROTOCOL.md). One shape keeps parsing to a single source-generated read.
/// </summary>
public sealed class ClientFrame
{
    /// <summary>Frame type: send, sync, history, read, ping, presence and typing, group commands.</summary>
    public string? Type { get; set; }
    /// <summary>Client-chosen id echoed in the reply.</summary>
    public string? Id { get; set; }
    /// <summary>Target conversation.</summary>
    public string? ConversationId { get; set; }
    /// <summary>Idempotency key of a send.</summary>
    public string? ClientMsgId { get; set; }
    /// <summary>Message text.</summary>
    public string? Text { get; set; }
    /// <summary>Cursor: updates or messages after this.</summary>
    public long? After { get; set; }
    /// <summary>Cursor: messages before this seq.</summary>
    public long? Before { get; set; }
    /// <summary>Page size (64-bit, as in a query, so that a huge one is out_of_range rather than unreadable).</summary>
    public long? Limit { get; set; }
    /// <summary>Read mark.</summary>
    public long? Seq { get; set; }
    /// <summary>Users of a presence query or subscription, or to add to a group.</summary>
    public List<string>? UserIds { get; set; }
    /// <summary>The member a group command is about.</summary>
    public string? UserId { get; set; }
    /// <summary>A group's title.</summary>
    public string? Title { get; set; }
    /// <summary>A member's new role.</summary>
    public string? Role { get; set; }
    /// <summary>Mute (true) or unmute (false) the conversation.</summary>
    public bool? Muted { get; set; }
    /// <summary>Until when a mute lasts (missing: until unmuted).</summary>
    public DateTimeOffset? Until { get; set; }
}

/// <summary>Sent once when a socket is ready.</summary>
public sealed record HelloFrame(string Type, string UserId, string DeviceId, long UserSeq, int MaxFrameBytes);

/// <summary>Reply to a send.</summary>
public sealed record AckFrame(string Type, string? Id, string ConversationId, long Seq, long UserSeq, string ClientMsgId, DateTimeOffset SentAt, bool Duplicate,
    IReadOnlyList<string> OfflineRecipients);

/// <summary>Reply to presence_query and presence_subscribe.</summary>
public sealed record PresenceResultFrame(string Type, string? Id, IReadOnlyList<WirePresence> Users);

/// <summary>Pushed when a subscribed user's presence changes.</summary>
public sealed record PresenceFrame(string Type, IReadOnlyList<WirePresence> Users);

/// <summary>Reply to a typing signal.</summary>
public sealed record TypingResultFrame(string Type, string? Id);

/// <summary>Pushed when another member starts or stops typing.</summary>
public sealed record TypingFrame(string Type, string ConversationId, string UserId, bool Typing, int ExpiresInMs);

/// <summary>Reply to a sync.</summary>
public sealed record SyncResultFrame(string Type, string? Id, IReadOnlyList<WireUpdate> Updates, bool HasMore, long UserSeq);

/// <summary>Reply to a history request.</summary>
public sealed record HistoryResultFrame(string Type, string? Id, string ConversationId, IReadOnlyList<WireMessage> Messages, bool HasMore, long LastSeq);

/// <summary>Reply to a read.</summary>
public sealed record ReadResultFrame(string Type, string? Id, string ConversationId, long ReadSeq);

/// <summary>Reply to a mute frame.</summary>
public sealed record MuteResultFrame(string Type, string? Id, string ConversationId, DateTimeOffset? MutedUntil);

/// <summary>Reply to a group command.</summary>
public sealed record GroupResultFrame(string Type, string? Id, WireConversation Conversation, IReadOnlyList<WireAck> Events);

/// <summary>Reply to a ping.</summary>
public sealed record PongFrame(string Type, string? Id);

/// <summary>Live updates pushed to the device.</summary>
public sealed record UpdatesFrame(string Type, IReadOnlyList<WireUpdate> Updates);

/// <summary>An error; <c>id</c> is the failed frame's id when known.</summary>
public sealed record ErrorFrame(string Type, string? Id, string Code, string Message);

/// <summary>GET /v1/push/config: what a client needs to subscribe.</summary>
/// <param name="VapidPublicKey">The server's VAPID public key (base64url, 65 bytes): the <c>applicationServerKey</c> for PushManager.subscribe.</param>
public sealed record WirePushConfig(string VapidPublicKey);

/// <summary>PUT /v1/push/subscription: exactly one of <see cref="WebPush"/> and <see cref="Webhook"/>.</summary>
public sealed record PushSubscriptionRequest([property: WireOptional] WebPushSubscriptionRequest? WebPush, [property: WireOptional] WebhookSubscriptionRequest? Webhook);

/// <summary>A browser's PushSubscription, as its <c>toJSON()</c> gives it (the <c>expirationTime</c> it may carry is ignored).</summary>
public sealed record WebPushSubscriptionRequest(string? Endpoint, WebPushKeys? Keys);

/// <summary>The keys of a browser's PushSubscription.</summary>
public sealed record WebPushKeys(string? P256dh, string? Auth);

/// <summary>A device's token at one of the server's configured webhooks.</summary>
public sealed record WebhookSubscriptionRequest(string? Target, string? Token);

/// <summary>One device's push subscription (its keys and token are not shown again).</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="Kind"><c>webPush</c> or <c>webhook</c>.</param>
/// <param name="Endpoint">For Web Push: the push service endpoint.</param>
/// <param name="Target">For a webhook: the target's name.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="Current">Whether it is the calling device's.</param>
public sealed record WirePushSubscription(string DeviceId, string Kind, string? Endpoint, string? Target, DateTimeOffset CreatedAt, bool Current);

/// <summary>GET /v1/push/subscriptions.</summary>
public sealed record WirePushSubscriptionList(IReadOnlyList<WirePushSubscription> Subscriptions);

/// <summary>GET and PUT /v1/push/settings.</summary>
/// <param name="Preview">Notifications carry the start of the message's text (default false: content-free).</param>
public sealed record WirePushSettings(bool Preview);

/// <summary>PUT /v1/push/settings.</summary>
public sealed record PushSettingsRequest(bool? Preview);

/// <summary>The push state of the caller's notification for one message.</summary>
public sealed record WirePushStatus(string NotificationId, string ConversationId, long Seq, long UserSeq, string State, int Attempts,
    string? Detail, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>GET /v1/conversations/{id}/push.</summary>
public sealed record WirePushStatusList(IReadOnlyList<WirePushStatus> Notifications);
