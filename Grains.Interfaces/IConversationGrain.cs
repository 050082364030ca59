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

    /// <summary>Conversation metadata (the full form: members, and a group's title, owners and admins); the caller must be a member.</summary>
    Task<ConversationInfo> GetInfoAsync(string callerId);

    // ---- groups (this grain's key a new group id for the first; each answers once its events are durable and in the actor's log) ----

    /// <summary>
    /// Creates the group this grain's key names, with <paramref name="creatorId"/> as its owner and
    /// <paramref name="memberIds"/> (who must exist; the creator may be among them) as members: the log's first
    /// entry is the <see cref="ConversationEventType.Created"/> event.
    /// </summary>
    Task<GroupChange> CreateGroupAsync(string creatorId, string title, IReadOnlyList<string> memberIds);

    /// <summary>Adds users (an admin or owner's command). Throws <see cref="ErrorCode.AlreadyMember"/>, <see cref="ErrorCode.GroupFull"/>, ….</summary>
    Task<GroupChange> AddMembersAsync(string actorId, IReadOnlyList<string> userIds);

    /// <summary>Removes a member (an admin's or owner's command; an owner only by an owner).</summary>
    Task<GroupChange> RemoveMemberAsync(string actorId, string userId);

    /// <summary>The caller leaves; the last owner of a group that keeps members hands the owner role on first.</summary>
    Task<GroupChange> LeaveAsync(string userId);

    /// <summary>Renames the group (an admin's or owner's command).</summary>
    Task<GroupChange> RenameAsync(string actorId, string title);

    /// <summary>Gives a member a role (admins manage admins; the owner role only by an owner; never the last owner's).</summary>
    Task<GroupChange> SetRoleAsync(string actorId, string userId, MemberRole role);

    // ---- receipts ----

    /// <summary>
    /// A member's devices have received the log up to <paramref name="deliveredSeq"/>, or the member read it up to
    /// <paramref name="readSeq"/> (each only moves forward; 0 says nothing). Called by the member's user grain.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task ReportReceiptsAsync(string userId, long deliveredSeq, long readSeq);

    /// <summary>Who of the members a message was for has received it and who has read it; the caller must be a member.</summary>
    Task<MessageReceiptDetail> GetReceiptsAsync(string callerId, long seq);

    /// <summary>Those of <paramref name="userIds"/> who are current members, if the caller is one (else none).</summary>
    Task<IReadOnlyList<string>> FindMembersAsync(string callerId, IReadOnlyList<string> userIds);

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
    /// member last told this conversation. Feeds the acks' <c>offlineRecipients</c>. One-way: a user grain
    /// never waits on its conversations (one on a silo that is stopping would hold the user's deliveries,
    /// lease renewals and sends for a whole call timeout); a report that is lost or overtaken is corrected
    /// by the member's next delivery receipt.
    /// </summary>
    [Orleans.Concurrency.OneWay]
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
