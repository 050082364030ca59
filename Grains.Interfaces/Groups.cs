namespace Messenger.Grains;

/// <summary>What a member of a group may do. Direct conversations have no roles (both are <see cref="Member"/>).</summary>
public enum MemberRole
{
    /// <summary>Sends, reads, leaves.</summary>
    Member = 1,
    /// <summary>Also adds and removes members, promotes and demotes admins, renames the group.</summary>
    Admin = 2,
    /// <summary>Also grants and takes the owner role and removes admins. A group keeps at least one while it has members.</summary>
    Owner = 3,
}

/// <summary>What a membership event in a group's log records.</summary>
public enum ConversationEventType
{
    /// <summary>The group was created (its first entry): <see cref="ConversationEvent.Title"/> and the initial members, the creator (the event's sender) its owner.</summary>
    Created = 1,
    /// <summary>The sender added <see cref="ConversationEvent.UserIds"/>.</summary>
    MembersAdded = 2,
    /// <summary>The sender removed <see cref="ConversationEvent.UserIds"/> (one user).</summary>
    MemberRemoved = 3,
    /// <summary>The sender left.</summary>
    MemberLeft = 4,
    /// <summary>The sender renamed the group to <see cref="ConversationEvent.Title"/>.</summary>
    Renamed = 5,
    /// <summary>The sender gave <see cref="ConversationEvent.UserIds"/> (one user) the role <see cref="ConversationEvent.Role"/>.</summary>
    RoleChanged = 6,
}

/// <summary>
/// A membership event: an entry of a group's log that is not a text message. It has a seq like a message,
/// so every device of every member shows it at the same place in history; the event's sender is who did it.
/// </summary>
/// <param name="Type">What happened.</param>
/// <param name="UserIds">Whom it concerns (empty for <see cref="ConversationEventType.Renamed"/> and <see cref="ConversationEventType.MemberLeft"/>).</param>
/// <param name="Title">The title, for <see cref="ConversationEventType.Created"/> and <see cref="ConversationEventType.Renamed"/>.</param>
/// <param name="Role">The new role, for <see cref="ConversationEventType.RoleChanged"/>.</param>
[GenerateSerializer, Immutable]
public sealed record ConversationEvent(
    [property: Id(0)] ConversationEventType Type,
    [property: Id(1)] IReadOnlyList<string> UserIds,
    [property: Id(2)] string? Title = null,
    [property: Id(3)] MemberRole? Role = null);

/// <summary>A member of a group (or of a direct conversation) as the conversation records them.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Role">Their role.</param>
/// <param name="JoinedSeq">The seq of the event that made them a member (1 for a direct conversation): they see the log from here.</param>
/// <param name="LeftSeq">The seq of the event that removed them (they get the log up to it and nothing after), or 0 while they are a member.</param>
/// <param name="Deleted">They deleted their account.</param>
/// <param name="DeliveredSeq">A device of theirs has received the log up to here (as last saved; receipts are saved lazily).</param>
/// <param name="ReadSeq">Their read mark (as last saved).</param>
[GenerateSerializer, Immutable]
public sealed record MemberRecord(
    [property: Id(0)] string UserId,
    [property: Id(1)] MemberRole Role,
    [property: Id(2)] long JoinedSeq,
    [property: Id(3)] long LeftSeq,
    [property: Id(4)] bool Deleted,
    [property: Id(5)] long DeliveredSeq = 0,
    [property: Id(6)] long ReadSeq = 0)
{
    /// <summary>A member now (not removed, not left).</summary>
    public bool Current => LeftSeq == 0;
}

/// <summary>What a group command answers: the group after it, and the events it appended.</summary>
/// <param name="Conversation">The group's metadata (the full form) after the change.</param>
/// <param name="Events">The events appended, in order, each as its actor's ack (with the actor's <c>userSeq</c>); empty when nothing changed.</param>
[GenerateSerializer, Immutable]
public sealed record GroupChange(
    [property: Id(0)] ConversationInfo Conversation,
    [property: Id(1)] IReadOnlyList<SendAck> Events);

/// <summary>Who has received and read one message.</summary>
/// <param name="Seq">The message.</param>
/// <param name="SenderId">Its sender.</param>
/// <param name="Of">How many members it was for (current members who had joined by then, the sender left out).</param>
/// <param name="DeliveredTo">Those of them a device of whom has received it, ascending.</param>
/// <param name="ReadBy">Those of them whose read mark has passed it, ascending.</param>
[GenerateSerializer, Immutable]
public sealed record MessageReceiptDetail(
    [property: Id(0)] long Seq,
    [property: Id(1)] string SenderId,
    [property: Id(2)] int Of,
    [property: Id(3)] IReadOnlyList<string> DeliveredTo,
    [property: Id(4)] IReadOnlyList<string> ReadBy);
