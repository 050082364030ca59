namespace Messenger.Client;

/// <summary>A committed message.</summary>
/// <param name="ConversationId">Its conversation.</param>
/// <param name="Seq">Its position in the conversation (from 1, no gaps).</param>
/// <param name="SenderId">The sender's user id.</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="Text">The text.</param>
/// <param name="SentAt">Server commit time (order is <paramref name="Seq"/>).</param>
public sealed record Message(string ConversationId, long Seq, string SenderId, string ClientMsgId, string Text, DateTimeOffset SentAt);

/// <summary>One entry of the user's update log.</summary>
/// <param name="UserSeq">Position in the user's log (from 1, no gaps).</param>
/// <param name="Kind"><c>message</c> or <c>read</c>.</param>
/// <param name="ConversationId">The conversation concerned.</param>
/// <param name="Seq">The message seq, or the new read mark.</param>
/// <param name="Message">The message, for kind <c>message</c>.</param>
public sealed record Update(long UserSeq, string Kind, string ConversationId, long Seq, Message? Message);

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
/// <param name="ConversationId">The id.</param>
/// <param name="Kind"><c>direct</c> or <c>group</c>.</param>
/// <param name="Members">Member user ids.</param>
/// <param name="CreatedAt">Creation time.</param>
public sealed record Conversation(string ConversationId, string Kind, IReadOnlyList<string> Members, DateTimeOffset CreatedAt);

/// <summary>A conversation in the user's list.</summary>
/// <param name="ConversationId">The id.</param>
/// <param name="Kind"><c>direct</c> or <c>group</c>.</param>
/// <param name="Members">Member user ids.</param>
/// <param name="LastSeq">Newest seq.</param>
/// <param name="ReadSeq">The user's read mark.</param>
/// <param name="Unread">Messages after the read mark.</param>
/// <param name="LastMessage">The newest message, if any.</param>
public sealed record ConversationSummary(string ConversationId, string Kind, IReadOnlyList<string> Members, long LastSeq, long ReadSeq, long Unread, Message? LastMessage);

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
