using System.Diagnostics;
using Messenger.Grains.Support;
using Messenger.Gateway.Auth;
using Messenger.Grains;
using Messenger.Gateway.Endpoints;

namespace Messenger.Gateway.Protocol;

/// <summary>
/// Request checks and grain calls shared by every transport (REST, the WebSocket, long-poll), so
/// all enforce the same rules with the same errors.
/// </summary>
public static class Requests
{
    public const int DefaultSyncLimit = 500;
    public const int MaxConversationIdLength = 128;

    public static string CheckConversationId(string? conversationId)
    {
        var id = AccountEndpoints.Required(conversationId, "conversationId");
        if (id.Length > MaxConversationIdLength)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"conversationId is longer than {MaxConversationIdLength} characters.");
        }
        // An id that cannot name any conversation is answered here, without activating a grain for it.
        if (!ConversationIds.IsValid(id))
        {
            throw new MessengerException(ErrorCode.NotMember, $"conversation '{id}' does not exist or you are not a member of it.");
        }
        return id;
    }

    public static async Task<SendAck> SendAsync(GrainReferences grains, string userId, string? conversationId, string? clientMsgId, string? text)
    {
        var conversation = CheckConversationId(conversationId);
        var key = AccountEndpoints.Required(clientMsgId, "clientMsgId");
        var body = AccountEndpoints.Required(text, "text");
        var started = Stopwatch.GetTimestamp();
        var ack = await grains.Conversation(conversation).SendAsync(userId, key, body);
        MessengerMetrics.AckDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return ack;
    }

    public static Task<HistoryPage> HistoryAsync(GrainReferences grains, string userId, string? conversationId, long? before, long? after, long? limit)
    {
        var conversation = CheckConversationId(conversationId);
        if (before is not null && after is not null)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, "give 'before' or 'after', not both.");
        }
        var grain = grains.Conversation(conversation);
        var size = QueryValues.PageSize(limit, ConversationEndpoints.DefaultPageSize);
        return after is not null
            ? grain.GetHistoryAsync(userId, after.Value, HistoryDirection.After, size)
            : grain.GetHistoryAsync(userId, before ?? long.MaxValue, HistoryDirection.Before, size);
    }

    public static Task<long> MarkReadAsync(GrainReferences grains, string userId, string? conversationId, long? seq)
    {
        var conversation = CheckConversationId(conversationId);
        if (seq is null) throw new MessengerException(ErrorCode.InvalidRequest, "'seq' is required.");
        return grains.User(userId).MarkReadAsync(conversation, seq.Value);
    }

    public const int MaxUsersPerPresenceRequest = 500;

    /// <summary>A non-empty-string, de-duplicated user list within the size limit (an empty list is allowed).</summary>
    public static List<string> CheckUserList(IReadOnlyList<string>? userIds)
    {
        if (userIds is null) throw new MessengerException(ErrorCode.InvalidRequest, "'userIds' is required.");
        if (userIds.Count > MaxUsersPerPresenceRequest)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"at most {MaxUsersPerPresenceRequest} users per request.");
        }
        var distinct = new List<string>(userIds.Count);
        foreach (var id in userIds)
        {
            if (string.IsNullOrEmpty(id)) throw new MessengerException(ErrorCode.InvalidRequest, "'userIds' must not contain empty ids.");
            if (!distinct.Contains(id)) distinct.Add(id);
        }
        return distinct;
    }

    /// <summary>The presence of users the caller shares a conversation with (anyone else is refused).</summary>
    public static async Task<PresenceStatus[]> QueryPresenceAsync(GrainReferences grains, string userId, IReadOnlyList<string>? userIds)
    {
        var ids = CheckUserList(userIds);
        await grains.User(userId).CheckContactsAsync(ids);
        var statuses = new Task<PresenceStatus>[ids.Count];
        for (var i = 0; i < statuses.Length; i++) statuses[i] = grains.User(ids[i]).GetPresenceAsync();
        return await Task.WhenAll(statuses);
    }

    public static Task TypingAsync(GrainReferences grains, string userId, string? conversationId) =>
        grains.Conversation(CheckConversationId(conversationId)).TypingAsync(userId);

    public static Task<SyncPage> SyncAsync(GrainReferences grains, string userId, long? after, long? limit) =>
        grains.User(userId).SyncAsync(after ?? 0, QueryValues.PageSize(limit, DefaultSyncLimit));

    public static Task<DateTimeOffset?> MuteAsync(GrainReferences grains, string userId, string? conversationId, bool? muted, DateTimeOffset? until)
    {
        var conversation = CheckConversationId(conversationId);
        if (muted is null) throw new MessengerException(ErrorCode.InvalidRequest, "'muted' is required.");
        if (muted == false && until is not null) throw new MessengerException(ErrorCode.InvalidRequest, "'until' is for a mute, not an unmute.");
        return grains.User(userId).SetMuteAsync(conversation, muted.Value, until);
    }

    // ---- groups ----

    public static Task<GroupChange> CreateGroupAsync(GrainReferences grains, string userId, string? title, IReadOnlyList<string>? userIds)
    {
        if (title is null) throw new MessengerException(ErrorCode.InvalidRequest, "'title' is required.");
        return grains.Conversation(ConversationIds.NewGroup()).CreateGroupAsync(userId, title, CheckMembers(userIds));
    }

    public static Task<GroupChange> AddMembersAsync(GrainReferences grains, string userId, string? conversationId, IReadOnlyList<string>? userIds) =>
        grains.Conversation(CheckConversationId(conversationId)).AddMembersAsync(userId, CheckMembers(userIds));

    public static Task<GroupChange> RemoveMemberAsync(GrainReferences grains, string userId, string? conversationId, string? member) =>
        grains.Conversation(CheckConversationId(conversationId)).RemoveMemberAsync(userId, AccountEndpoints.Required(member, "userId"));

    public static Task<GroupChange> LeaveAsync(GrainReferences grains, string userId, string? conversationId) =>
        grains.Conversation(CheckConversationId(conversationId)).LeaveAsync(userId);

    public static Task<GroupChange> RenameAsync(GrainReferences grains, string userId, string? conversationId, string? title)
    {
        var conversation = CheckConversationId(conversationId);
        if (title is null) throw new MessengerException(ErrorCode.InvalidRequest, "'title' is required.");
        return grains.Conversation(conversation).RenameAsync(userId, title);
    }

    public static Task<GroupChange> SetRoleAsync(GrainReferences grains, string userId, string? conversationId, string? member, string? role)
    {
        var conversation = CheckConversationId(conversationId);
        var target = AccountEndpoints.Required(member, "userId");
        var parsed = WireMapping.ParseRole(role) ?? throw new MessengerException(ErrorCode.InvalidRequest, "'role' must be 'owner', 'admin' or 'member'.");
        return grains.Conversation(conversation).SetRoleAsync(userId, target, parsed);
    }

    /// <summary>A member list as given (duplicates are the grain's to refuse, with the rest of a group's rules): present, no empty ids.</summary>
    private static IReadOnlyList<string> CheckMembers(IReadOnlyList<string>? userIds)
    {
        if (userIds is null) throw new MessengerException(ErrorCode.InvalidRequest, "'userIds' is required.");
        foreach (var id in userIds)
        {
            if (string.IsNullOrEmpty(id)) throw new MessengerException(ErrorCode.InvalidRequest, "'userIds' must not contain empty ids.");
        }
        return userIds;
    }
}
