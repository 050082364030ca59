namespace Messenger.Grains;

/// <summary>A user's published presence: what watchers are told and what a query returns.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Online">True while at least one device is connected (after the settle delay).</param>
/// <param name="LastSeen">When the user's last device went away; null if never seen.</param>
[GenerateSerializer, Immutable]
public sealed record PresenceStatus(
    [property: Id(0)] string UserId,
    [property: Id(1)] bool Online,
    [property: Id(2)] DateTimeOffset? LastSeen);

/// <summary>Someone started or stopped typing in a conversation. Never stored.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="UserId">Who is typing.</param>
/// <param name="Typing">True when started (or renewed past a stop), false when stopped or expired.</param>
/// <param name="ExpiresInMs">For a start: how long it lasts without renewal.</param>
[GenerateSerializer, Immutable]
public sealed record TypingEvent(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string UserId,
    [property: Id(2)] bool Typing,
    [property: Id(3)] int ExpiresInMs);
