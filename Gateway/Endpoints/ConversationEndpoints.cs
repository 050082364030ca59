using System.Diagnostics;
using Messenger.Grains.Support;
using Messenger.Gateway.Auth;
using Messenger.Gateway.Protocol;
using Messenger.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Messenger.Gateway.Endpoints;

/// <summary>Conversations, history pages, sends, read marks and the update log over REST.</summary>
public static class ConversationEndpoints
{
    public const int DefaultPageSize = 50;

    public static RouteGroupBuilder MapConversationEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/conversations/direct", OpenDirectAsync);
        v1.MapGet("/conversations", ListAsync);
        v1.MapGet("/conversations/{conversationId}", GetAsync);
        v1.MapGet("/conversations/{conversationId}/messages", HistoryAsync);
        v1.MapPost("/conversations/{conversationId}/messages", SendAsync);
        v1.MapPost("/conversations/{conversationId}/read", MarkReadAsync);
        v1.MapPost("/conversations/{conversationId}/typing", TypingAsync);
        v1.MapGet("/sync", SyncAsync);
        v1.MapGet("/presence", PresenceAsync);
        return v1;
    }

    private static async Task<Ok<WireConversation>> OpenDirectAsync(OpenDirectRequest request, HttpContext http, GrainReferences grains)
    {
        var me = http.User.UserId();
        var other = AccountEndpoints.Required(request.UserId, "userId");
        if (!UserIds.IsValid(other)) throw new MessengerException(ErrorCode.UserNotFound, $"user '{other}' does not exist.");
        if (other == me) throw new MessengerException(ErrorCode.InvalidRequest, "a direct conversation needs another user.");
        var info = await grains.Conversation(ConversationIds.Direct(me, other)).OpenDirectAsync(me);
        return TypedResults.Ok(info.ToWire());
    }

    private static async Task<Ok<WireConversationList>> ListAsync(HttpContext http, GrainReferences grains)
    {
        var list = await grains.User(http.User.UserId()).ListConversationsAsync();
        var wire = new WireConversationSummary[list.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = list[i].ToWire();
        return TypedResults.Ok(new WireConversationList(wire));
    }

    private static async Task<Ok<WireConversation>> GetAsync(string conversationId, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await grains.Conversation(Requests.CheckConversationId(conversationId)).GetInfoAsync(http.User.UserId())).ToWire());

    private static async Task<Ok<WireHistoryPage>> HistoryAsync(
        string conversationId, long? before, long? after, int? limit, HttpContext http, GrainReferences grains)
    {
        var page = await Requests.HistoryAsync(grains, http.User.UserId(), conversationId, before, after, limit);
        return TypedResults.Ok(page.ToWire(conversationId));
    }

    private static async Task<Ok<WireAck>> SendAsync(string conversationId, SendMessageRequest request, HttpContext http, GrainReferences grains)
    {
        var ack = await Requests.SendAsync(grains, http.User.UserId(), conversationId, request.ClientMsgId, request.Text);
        return TypedResults.Ok(ack.ToWire());
    }

    private static async Task<Ok<WireReadMark>> MarkReadAsync(string conversationId, MarkReadRequest request, HttpContext http, GrainReferences grains)
    {
        var readSeq = await Requests.MarkReadAsync(grains, http.User.UserId(), conversationId, request.Seq);
        return TypedResults.Ok(new WireReadMark(conversationId, readSeq));
    }

    private static async Task<NoContent> TypingAsync(string conversationId, HttpContext http, GrainReferences grains)
    {
        await Requests.TypingAsync(grains, http.User.UserId(), conversationId);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WirePresenceList>> PresenceAsync(string? userIds, HttpContext http, GrainReferences grains)
    {
        var ids = string.IsNullOrEmpty(userIds) ? null : userIds.Split(',', StringSplitOptions.TrimEntries);
        var statuses = await Requests.QueryPresenceAsync(grains, http.User.UserId(), ids);
        return TypedResults.Ok(new WirePresenceList(statuses.ToWire()));
    }

    private static async Task<Ok<WireSyncPage>> SyncAsync(long? after, int? limit, HttpContext http, GrainReferences grains)
    {
        var page = await Requests.SyncAsync(grains, http.User.UserId(), after, limit);
        return TypedResults.Ok(page.ToWire());
    }
}

/// <summary>
/// Request checks and grain calls shared by REST and the socket transports, so both enforce the
/// same rules with the same errors.
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
        if (!ConversationIds.TryParseDirect(id, out _, out _))
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

    public static Task<HistoryPage> HistoryAsync(GrainReferences grains, string userId, string? conversationId, long? before, long? after, int? limit)
    {
        var conversation = CheckConversationId(conversationId);
        if (before is not null && after is not null)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, "give 'before' or 'after', not both.");
        }
        var grain = grains.Conversation(conversation);
        var size = limit ?? ConversationEndpoints.DefaultPageSize;
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

    public static Task<SyncPage> SyncAsync(GrainReferences grains, string userId, long? after, int? limit) =>
        grains.User(userId).SyncAsync(after ?? 0, limit ?? DefaultSyncLimit);
}
