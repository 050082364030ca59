namespace Messenger.Grains;

/// <summary>
/// One conversation (key = conversation id): members, <c>lastSeq</c>, the recent messages and the
/// ordered send path with group commit, then fan-out to the members' user grains.
/// </summary>
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens (creating on first call) the direct conversation this grain's key names; the caller
    /// must be one of its two users and both must exist. Idempotent.
    /// </summary>
    Task<ConversationInfo> OpenDirectAsync(string callerId);

    /// <summary>Conversation metadata; the caller must be a member.</summary>
    Task<ConversationInfo> GetInfoAsync(string callerId);

    /// <summary>
    /// Commits a message and returns once it and the sender's own update are durable (never waiting
    /// on other members). A retry with the same
    /// <paramref name="clientMsgId"/> returns the original ack and never makes a second message.
    /// </summary>
    Task<SendAck> SendAsync(string senderId, string clientMsgId, string text);

    /// <summary>A page of history around <paramref name="cursor"/>; the caller must be a member.</summary>
    Task<HistoryPage> GetHistoryAsync(string callerId, long cursor, HistoryDirection direction, int limit);

    /// <summary>
    /// The caller is typing: the other members' live devices are told once when it starts and once
    /// when it stops (timeout without renewal, or a message from the caller). Never stored.
    /// Throws <see cref="ErrorCode.RateLimited"/> when renewed faster than the configured interval.
    /// </summary>
    Task TypingAsync(string userId);

    /// <summary>Activates the grain so that it finishes any fan-out a crash interrupted.</summary>
    Task ResumeFanOutAsync();

    /// <summary>
    /// A member's user grain says whether the member has a live device, after it changed since the
    /// member last told this conversation. Feeds the acks' <c>offlineRecipients</c>.
    /// </summary>
    Task MemberLivenessChangedAsync(string userId, bool live);

    /// <summary>
    /// A member deleted their account (called by their user grain; idempotent): recorded durably; they stay a
    /// member and their messages stay in the log, nothing more is delivered to them, and a direct
    /// conversation refuses new messages with <see cref="ErrorCode.UserDeleted"/>.
    /// </summary>
    Task MemberDeletedAsync(string userId);
}

/// <summary>Accounts by username. Stateless: every rule is enforced by the store's constraints.</summary>
public interface IAccountDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Registers a username with an already hashed password; throws <see cref="ErrorCode.UsernameTaken"/>.</summary>
    Task<UserProfile> RegisterAsync(string username, string passwordHash);

    /// <summary>The account for a username, or null. Carries the password hash for the gateway to verify.</summary>
    Task<AccountCredentials?> FindAsync(string username);
}

/// <summary>A user's profile with the stored password hash.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="PasswordHash">The slow-KDF hash.</param>
[GenerateSerializer, Immutable]
public sealed record AccountCredentials(
    [property: Id(0)] UserProfile Profile,
    [property: Id(1)] string PasswordHash);
