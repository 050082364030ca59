namespace Messenger.Grains;

/// <summary>A committed message. Identified by <c>(ConversationId, Seq)</c>; order is <see cref="Seq"/>.</summary>
/// <param name="ConversationId">The conversation it belongs to.</param>
/// <param name="Seq">Position in the conversation: starts at 1, no gaps.</param>
/// <param name="SenderId">The user who sent it.</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="Text">The message text.</param>
/// <param name="SentAt">Server time of the commit (informational; order is <see cref="Seq"/>).</param>
/// <param name="Event">For a membership event of a group, what happened (its <see cref="Text"/> is empty); null for a text message.</param>
[GenerateSerializer, Immutable]
public sealed record ChatMessage(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long Seq,
    [property: Id(2)] string SenderId,
    [property: Id(3)] string ClientMsgId,
    [property: Id(4)] string Text,
    [property: Id(5)] DateTimeOffset SentAt,
    [property: Id(6)] ConversationEvent? Event = null);

/// <summary>What the sender gets back once its message is durable.</summary>
/// <param name="Message">The committed message (the original one when this was a retry).</param>
/// <param name="UserSeq">The sender's update-log position of this message.</param>
/// <param name="Duplicate">True when this send was a retry of an already committed message.</param>
/// <param name="OfflineRecipients">Members other than the sender who had no live device when the
/// message reached their update log (they will get it when they reconnect). Empty on a duplicate.</param>
[GenerateSerializer, Immutable]
public sealed record SendAck(
    [property: Id(0)] ChatMessage Message,
    [property: Id(1)] long UserSeq,
    [property: Id(2)] bool Duplicate,
    [property: Id(3)] IReadOnlyList<string> OfflineRecipients);

/// <summary>What kind of change a <see cref="UserUpdate"/> records.</summary>
public enum UpdateKind
{
    /// <summary>A new message in one of the user's conversations.</summary>
    Message = 1,
    /// <summary>The user's read mark in a conversation moved forward (from any of their devices).</summary>
    Read = 2,
    /// <summary>How many members have received and read some of the user's own messages changed (<see cref="UserUpdate.Receipts"/>).</summary>
    Receipts = 3,
    /// <summary>The user muted or unmuted a conversation (from any of their devices): <c>Seq</c> is the end of the mute in unix ms, 0 when unmuted.</summary>
    Mute = 4,
}

/// <summary>How far one of a member's own messages has got: received by how many of the other members, read by how many.</summary>
/// <param name="Seq">The message.</param>
/// <param name="Delivered">Other members a device of whom has received it.</param>
/// <param name="Read">Other members whose read mark has passed it.</param>
/// <param name="Of">Other members it was for (current members who had joined by then, the sender left out).</param>
[GenerateSerializer, Immutable]
public readonly record struct MessageReceipt(
    [property: Id(0)] long Seq,
    [property: Id(1)] int Delivered,
    [property: Id(2)] int Read,
    [property: Id(3)] int Of);

/// <summary>One entry of a user's update log. <see cref="UserSeq"/> increases by one with no gaps.</summary>
/// <param name="UserSeq">Position in the user's update log.</param>
/// <param name="Kind">What changed.</param>
/// <param name="ConversationId">The conversation it concerns.</param>
/// <param name="Seq">For <see cref="UpdateKind.Message"/> the message seq; for <see cref="UpdateKind.Read"/> the new read mark;
/// for <see cref="UpdateKind.Receipts"/> the newest message it counts.</param>
/// <param name="Message">The message for <see cref="UpdateKind.Message"/>, otherwise null.</param>
/// <param name="Receipts">For <see cref="UpdateKind.Receipts"/>: the user's messages whose counts changed, ascending by seq; otherwise null.</param>
[GenerateSerializer, Immutable]
public sealed record UserUpdate(
    [property: Id(0)] long UserSeq,
    [property: Id(1)] UpdateKind Kind,
    [property: Id(2)] string ConversationId,
    [property: Id(3)] long Seq,
    [property: Id(4)] ChatMessage? Message,
    [property: Id(5)] IReadOnlyList<MessageReceipt>? Receipts = null);

/// <summary>A page of a user's update log.</summary>
/// <param name="Updates">Updates after the cursor, in <c>UserSeq</c> order.</param>
/// <param name="HasMore">True when more updates follow the last one returned.</param>
/// <param name="LastUserSeq">The newest <c>UserSeq</c> of the user at the time of the read.</param>
[GenerateSerializer, Immutable]
public sealed record SyncPage(
    [property: Id(0)] IReadOnlyList<UserUpdate> Updates,
    [property: Id(1)] bool HasMore,
    [property: Id(2)] long LastUserSeq);

/// <summary>A page of a conversation's history, always in ascending <c>Seq</c> order.</summary>
/// <param name="Messages">The messages, ascending by seq.</param>
/// <param name="HasMore">True when more messages exist beyond the page in the direction asked.</param>
/// <param name="LastSeq">The conversation's newest seq at the time of the read.</param>
[GenerateSerializer, Immutable]
public sealed record HistoryPage(
    [property: Id(0)] IReadOnlyList<ChatMessage> Messages,
    [property: Id(1)] bool HasMore,
    [property: Id(2)] long LastSeq);

/// <summary>Which way a history page reads from its cursor.</summary>
public enum HistoryDirection
{
    /// <summary>Messages with seq below the cursor, newest first taken (returned ascending).</summary>
    Before = 1,
    /// <summary>Messages with seq above the cursor, oldest first.</summary>
    After = 2,
}

/// <summary>The kind of a conversation.</summary>
public enum ConversationKind
{
    /// <summary>Two users; id <c>d:{min}:{max}</c>.</summary>
    Direct = 1,
    /// <summary>A group; id <c>g:{ulid}</c>.</summary>
    Group = 2,
}

/// <summary>A conversation as one user sees it in their list.</summary>
/// <param name="Conversation">The conversation as the list holds it (for a group: title and member count, no member list).</param>
/// <param name="LastSeq">The newest seq the user has been delivered.</param>
/// <param name="ReadSeq">The user's read mark.</param>
/// <param name="Unread">Messages after the read mark.</param>
/// <param name="LastMessage">The newest message, or null when there is none yet.</param>
/// <param name="Left">The user left the group or was removed from it: it stays in the list with the history they had.</param>
/// <param name="MutedUntil">The user muted it until then (<see cref="Mutes.Forever"/>: until unmuted); null when not muted now.</param>
[GenerateSerializer, Immutable]
public sealed record ConversationSummary(
    [property: Id(0)] ConversationInfo Conversation,
    [property: Id(1)] long LastSeq,
    [property: Id(2)] long ReadSeq,
    [property: Id(3)] long Unread,
    [property: Id(4)] ChatMessage? LastMessage,
    [property: Id(5)] bool Left,
    [property: Id(6)] DateTimeOffset? MutedUntil = null);

/// <summary>Muting a conversation: for a while, or until unmuted.</summary>
public static class Mutes
{
    /// <summary>The end of a mute with no end: the last millisecond of year 9999.</summary>
    public static readonly DateTimeOffset Forever = DateTimeOffset.FromUnixTimeMilliseconds(253_402_300_799_999);
}

/// <summary>
/// Conversation metadata. The full form (from the conversation itself) lists every current member, and for a
/// group its owners and admins; the form a user's conversation list holds for a group leaves the members out
/// (<see cref="Members"/> is empty; <see cref="MemberCount"/> counts them), as it would otherwise cost every
/// member a copy of the whole list.
/// </summary>
/// <param name="ConversationId">The id.</param>
/// <param name="Kind">Direct or group.</param>
/// <param name="Members">Current member user ids, ascending (empty in a user's list entry of a group).</param>
/// <param name="CreatedAt">Creation time.</param>
/// <param name="Title">A group's title; null for a direct conversation.</param>
/// <param name="MemberCount">How many current members.</param>
/// <param name="Owners">A group's owners (full form only; otherwise null).</param>
/// <param name="Admins">A group's admins (full form only; otherwise null).</param>
[GenerateSerializer, Immutable]
public sealed record ConversationInfo(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] ConversationKind Kind,
    [property: Id(2)] IReadOnlyList<string> Members,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] string? Title = null,
    [property: Id(5)] int MemberCount = 2,
    [property: Id(6)] IReadOnlyList<string>? Owners = null,
    [property: Id(7)] IReadOnlyList<string>? Admins = null)
{
    /// <summary>The form a user's conversation list keeps: a group without its member list and roles.</summary>
    public ConversationInfo ForList() => Kind == ConversationKind.Direct ? this with { Owners = null, Admins = null }
        : this with { Members = [], Owners = null, Admins = null };
}

/// <summary>A registered user, without secrets.</summary>
/// <param name="UserId">Server-assigned stable id.</param>
/// <param name="Username">Unique, lower-case username.</param>
/// <param name="CreatedAt">Registration time.</param>
[GenerateSerializer, Immutable]
public sealed record UserProfile(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Username,
    [property: Id(2)] DateTimeOffset CreatedAt);
