namespace Messenger.Client;

/// <summary>A committed message, or a group's membership event (then <see cref="Event"/> is set and the text is empty).</summary>
/// <param name="ConversationId">Its conversation.</param>
/// <param name="Seq">Its position in the conversation (from 1, no gaps).</param>
/// <param name="SenderId">The sender's user id (for an event: who did it).</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="Text">The text ("" for an event).</param>
/// <param name="SentAt">Server commit time (order is <paramref name="Seq"/>).</param>
/// <param name="Event">What a group's membership event records; null for a text message.</param>
public sealed record Message(string ConversationId, long Seq, string SenderId, string ClientMsgId, string Text, DateTimeOffset SentAt,
    GroupEvent? Event = null);

/// <summary>A membership event of a group, an entry of its log like a message; the message's sender did it.</summary>
/// <param name="Type">One of <see cref="GroupEventTypes"/>.</param>
/// <param name="UserIds">
/// Whom it concerns: every first member for <c>created</c> (the creator first), those added, the one removed or
/// given a role; empty for <c>member_left</c> (the sender left) and <c>renamed</c>.
/// </param>
/// <param name="Title">The title, for <c>created</c> and <c>renamed</c>.</param>
/// <param name="Role">The new role (one of <see cref="GroupRoles"/>), for <c>role_changed</c>.</param>
public sealed record GroupEvent(string Type, IReadOnlyList<string> UserIds, string? Title = null, string? Role = null);

/// <summary>The values of <see cref="GroupEvent.Type"/>.</summary>
public static class GroupEventTypes
{
    /// <summary>The group was created (its first entry), with its title and first members; the creator is its owner.</summary>
    public const string Created = "created";
    /// <summary>The sender added members.</summary>
    public const string MembersAdded = "members_added";
    /// <summary>The sender removed a member: the removed member's last entry of the group.</summary>
    public const string MemberRemoved = "member_removed";
    /// <summary>The sender left: their last entry of the group.</summary>
    public const string MemberLeft = "member_left";
    /// <summary>The sender renamed the group.</summary>
    public const string Renamed = "renamed";
    /// <summary>The sender gave a member a role.</summary>
    public const string RoleChanged = "role_changed";
}

/// <summary>A member's role in a group.</summary>
public static class GroupRoles
{
    /// <summary>Everything an admin may do, and grants or takes the owner role and removes owners; a group keeps at least one.</summary>
    public const string Owner = "owner";
    /// <summary>Adds and removes members, gives the admin and member roles, renames the group.</summary>
    public const string Admin = "admin";
    /// <summary>Sends, reads, leaves.</summary>
    public const string Member = "member";
}

/// <summary>One entry of the user's update log.</summary>
/// <param name="UserSeq">Position in the user's log (from 1, no gaps).</param>
/// <param name="Kind"><c>message</c>, <c>read</c> or <c>receipts</c>.</param>
/// <param name="ConversationId">The conversation concerned.</param>
/// <param name="Seq">The message seq, the new read mark, or (receipts) the newest message counted.</param>
/// <param name="Message">The message, for kind <c>message</c>.</param>
/// <param name="Receipts">For kind <c>receipts</c>: how far some of the user's own messages have got.</param>
/// <param name="MutedUntil">For kind <c>mute</c>: the end of the mute (year 9999: until unmuted); null for an unmute.</param>
public sealed record Update(long UserSeq, string Kind, string ConversationId, long Seq, Message? Message, IReadOnlyList<Receipt>? Receipts = null,
    DateTimeOffset? MutedUntil = null);

/// <summary>One of the user's own messages: received by <paramref name="Delivered"/> and read by <paramref name="Read"/> of the <paramref name="Of"/> other members it was for.</summary>
/// <param name="Seq">The message.</param>
/// <param name="Delivered">Members a device of whom has received it.</param>
/// <param name="Read">Members whose read mark has passed it.</param>
/// <param name="Of">Members it was for (the sender left out).</param>
public sealed record Receipt(long Seq, int Delivered, int Read, int Of);

/// <summary>Who has received and who has read one message.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">The message.</param>
/// <param name="SenderId">Its sender.</param>
/// <param name="Of">Members it was for (the sender left out).</param>
/// <param name="DeliveredTo">Those of them a device of whom has received it.</param>
/// <param name="ReadBy">Those of them whose read mark has passed it.</param>
public sealed record MessageReceipts(string ConversationId, long Seq, string SenderId, int Of, IReadOnlyList<string> DeliveredTo, IReadOnlyList<string> ReadBy);

/// <summary>The server's answer to a send: the message is durable.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">The message's seq.</param>
/// <param name="UserSeq">The sender's userSeq for it.</param>
/// <param name="ClientMsgId">The idempotency key.</param>
/// <param name="SentAt">Server time.</param>
/// <param name="Duplicate">True when this answered a retry.</param>
/// <param name="OfflineRecipients">Members who had no connected device when the message reached them (empty on a duplicate).</param>
public sealed record Ack(string ConversationId, long Seq, long UserSeq, string ClientMsgId, DateTimeOffset SentAt, bool Duplicate,
    IReadOnlyList<string>? OfflineRecipients = null);

/// <summary>A user's presence.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Online">Online (at least one device connected, after the settle delay).</param>
/// <param name="LastSeen">When their last device went away; null if never.</param>
public sealed record Presence(string UserId, bool Online, DateTimeOffset? LastSeen);

/// <summary>Another member started or stopped typing.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="UserId">Who.</param>
/// <param name="IsTyping">Started (true) or stopped (false).</param>
/// <param name="ExpiresInMs">For a start: when it ends without renewal.</param>
public sealed record TypingChange(string ConversationId, string UserId, bool IsTyping, int ExpiresInMs);

/// <summary>A page of the update log.</summary>
/// <param name="Updates">Updates in order.</param>
/// <param name="HasMore">More follow.</param>
/// <param name="UserSeq">The newest userSeq at the time.</param>
public sealed record SyncPage(IReadOnlyList<Update> Updates, bool HasMore, long UserSeq);

/// <summary>The answer to a long-poll.</summary>
/// <param name="Updates">Updates after the cursor, in order (as a sync page).</param>
/// <param name="HasMore">More follow: poll (or sync) again at once.</param>
/// <param name="UserSeq">The newest userSeq at the time.</param>
/// <param name="Events">Presence and typing frames pushed to this device since its last poll, as on a socket.</param>
public sealed record PollResult(IReadOnlyList<Update> Updates, bool HasMore, long UserSeq, IReadOnlyList<System.Text.Json.JsonElement> Events);

/// <summary>A page of history, ascending by seq.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Messages">Messages ascending by seq.</param>
/// <param name="HasMore">More exist in the direction asked.</param>
/// <param name="LastSeq">The conversation's newest seq.</param>
public sealed record HistoryPage(string ConversationId, IReadOnlyList<Message> Messages, bool HasMore, long LastSeq);

/// <summary>Conversation metadata.</summary>
/// <param name="ConversationId">The id (<c>d:…</c> direct, <c>g:</c> and 32 hex digits a group).</param>
/// <param name="Kind"><c>direct</c> or <c>group</c>.</param>
/// <param name="Members">Member user ids.</param>
/// <param name="CreatedAt">Creation time.</param>
/// <param name="MemberCount">How many members it has.</param>
/// <param name="Title">A group's title; null for a direct conversation.</param>
/// <param name="Owners">A group's owners; null for a direct conversation.</param>
/// <param name="Admins">A group's admins (not the owners); null for a direct conversation.</param>
public sealed record Conversation(string ConversationId, string Kind, IReadOnlyList<string> Members, DateTimeOffset CreatedAt,
    int MemberCount = 0, string? Title = null, IReadOnlyList<string>? Owners = null, IReadOnlyList<string>? Admins = null);

/// <summary>A conversation in the user's list.</summary>
/// <param name="ConversationId">The id.</param>
/// <param name="Kind"><c>direct</c> or <c>group</c>.</param>
/// <param name="Members">A direct conversation's two members; null for a group (ask for the group itself to list them).</param>
/// <param name="LastSeq">Newest seq (for a group the user left: of their last entry).</param>
/// <param name="ReadSeq">The user's read mark.</param>
/// <param name="Unread">Messages after the read mark.</param>
/// <param name="LastMessage">The newest message, if any.</param>
/// <param name="MemberCount">How many members it has.</param>
/// <param name="Title">A group's title; null for a direct conversation.</param>
/// <param name="Left">True once the user was removed from the group or left it (its history up to then stays theirs).</param>
/// <param name="MutedUntil">The user muted it until then (year 9999: until unmuted); null when not muted.</param>
public sealed record ConversationSummary(string ConversationId, string Kind, IReadOnlyList<string>? Members, long LastSeq, long ReadSeq, long Unread,
    Message? LastMessage, int MemberCount = 0, string? Title = null, bool Left = false, DateTimeOffset? MutedUntil = null);

/// <summary>The user's mute of a conversation.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="MutedUntil">The end of the mute (year 9999: until unmuted); null when not muted.</param>
public sealed record MuteState(string ConversationId, DateTimeOffset? MutedUntil);

/// <summary>The answer to a group command.</summary>
/// <param name="Conversation">The group after the command.</param>
/// <param name="Events">The events it appended, in order, each as the caller's ack (its seq and the caller's userSeq); empty when nothing changed.</param>
public sealed record GroupChange(Conversation Conversation, IReadOnlyList<Ack> Events);

/// <summary>A user.</summary>
/// <param name="UserId">Stable id.</param>
/// <param name="Username">Unique username.</param>
/// <param name="CreatedAt">Registration time.</param>
public sealed record User(string UserId, string Username, DateTimeOffset CreatedAt);

/// <summary>A device session.</summary>
/// <param name="Token">Bearer token.</param>
/// <param name="UserId">The user.</param>
/// <param name="Username">The username.</param>
/// <param name="DeviceId">The device.</param>
/// <param name="ExpiresAt">When the token expires.</param>
public sealed record Session(string Token, string UserId, string Username, string DeviceId, DateTimeOffset ExpiresAt);

/// <summary>One of the user's logged-in devices.</summary>
/// <param name="DeviceId">The id it logs in with.</param>
/// <param name="Name">The name it gave at login, if any.</param>
/// <param name="CreatedAt">Its first login (since it was last logged out).</param>
/// <param name="LastActiveAt">When the server last saw it (approximate).</param>
/// <param name="Live">Whether it has a socket or long-poll session now.</param>
/// <param name="Current">Whether it is the device whose token asked.</param>
public sealed record Device(string DeviceId, string? Name, DateTimeOffset CreatedAt, DateTimeOffset LastActiveAt, bool Live, bool Current);

/// <summary>A read mark.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="ReadSeq">The read mark now in force.</param>
public sealed record ReadMark(string ConversationId, long ReadSeq);

/// <summary>An error the server reported, with its stable code (see docs/PROTOCOL.md).</summary>
public sealed class MessengerClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessengerClientException(string code, string message, int? httpStatus = null, TimeSpan? retryAfter = null) : base($"{code}: {message}")
    {
        Code = code;
        HttpStatus = httpStatus;
        RetryAfter = retryAfter;
    }

    /// <summary>How long the server asked to wait before trying again (its <c>Retry-After</c>, e.g. on <c>rate_limited</c>); null if it did not say.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The stable error code, e.g. <c>not_member</c>.</summary>
    public string Code { get; }

    /// <summary>The HTTP status for REST errors; null for socket errors.</summary>
    public int? HttpStatus { get; }
}

/// <summary>What a client needs to subscribe to push notifications.</summary>
/// <param name="VapidPublicKey">The server's VAPID public key (base64url): the applicationServerKey for a browser's PushManager.</param>
public sealed record PushConfig(string VapidPublicKey);

/// <summary>One device's push subscription, as the server lists it (keys and tokens are not shown).</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="Kind"><c>webPush</c> or <c>webhook</c>.</param>
/// <param name="Endpoint">For Web Push: the push service endpoint.</param>
/// <param name="Target">For a webhook: the target's name.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="Current">Whether it is this device's.</param>
public sealed record PushSubscriptionInfo(string DeviceId, string Kind, string? Endpoint, string? Target, DateTimeOffset CreatedAt, bool Current);

/// <summary>A user's push settings.</summary>
/// <param name="Preview">Notifications carry the start of the message's text.</param>
public sealed record PushSettings(bool Preview);

/// <summary>What became of this user's notification for one message (docs/PROTOCOL.md 4.18.5).</summary>
public sealed record PushStatus(string NotificationId, string ConversationId, long Seq, long UserSeq, string State, int Attempts, string? Detail,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
