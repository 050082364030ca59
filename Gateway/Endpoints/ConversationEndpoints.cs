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
        var conversations = v1.MapGroup("/conversations").WithTags("Conversations");
        conversations.MapPost("/direct", OpenDirectAsync).WithName("OpenDirectConversation")
            .WithSummary("Opens (idempotently) the direct conversation with another user").ProducesProblem(StatusCodes.Status404NotFound);
        conversations.MapPost("/groups", CreateGroupAsync).WithName("CreateGroup")
            .WithSummary("Creates a group with the caller as its owner").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        conversations.MapGet("", ListAsync).WithName("ListConversations").WithSummary("The caller's conversations, with unread counts");
        var one = conversations.MapGroup("/{conversationId}").ProducesProblem(StatusCodes.Status403Forbidden);
        one.MapGet("", GetAsync).WithName("GetConversation").WithSummary("A conversation's metadata");
        one.MapGet("/messages", HistoryAsync).WithName("GetHistory").WithSummary("A page of a conversation's history");
        one.MapPost("/messages", SendAsync).WithName("SendMessage").WithSummary("Sends a message; answers once it is durable (idempotent on clientMsgId)")
            .ProducesProblem(StatusCodes.Status410Gone);
        one.MapGet("/messages/{seq}/receipts", ReceiptsAsync).WithName("GetMessageReceipts")
            .WithSummary("Who of the members a message was for has received it and who has read it");
        one.MapPut("/mute", MuteAsync).WithName("Mute").WithSummary("Mutes the conversation for the caller, until a time or until unmuted");
        one.MapDelete("/mute", UnmuteAsync).WithName("Unmute").WithSummary("Unmutes the conversation for the caller");
        one.MapPost("/read", MarkReadAsync).WithName("MarkRead").WithSummary("Moves the caller's read mark forward");
        one.MapPost("/typing", TypingAsync).WithName("SignalTyping").WithSummary("Tells the other members the caller is typing")
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        one.MapPatch("", RenameAsync).WithName("RenameGroup").WithSummary("Renames a group (admins and owners)");
        one.MapPost("/members", AddMembersAsync).WithName("AddMembers").WithSummary("Adds members to a group (admins and owners)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        one.MapDelete("/members/{userId}", RemoveMemberAsync).WithName("RemoveMember").WithSummary("Removes a member from a group (admins and owners)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        one.MapPut("/members/{userId}/role", SetRoleAsync).WithName("SetMemberRole").WithSummary("Gives a member of a group a role")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        one.MapPost("/leave", LeaveAsync).WithName("LeaveGroup").WithSummary("The caller leaves a group").ProducesProblem(StatusCodes.Status409Conflict);
        v1.MapGet("/sync", SyncAsync).WithTags("Updates").WithName("Sync").WithSummary("A page of the caller's update log after a cursor");
        v1.MapGet("/presence", PresenceAsync).WithTags("Presence").WithName("QueryPresence")
            .WithSummary("The presence of contacts").ProducesProblem(StatusCodes.Status403Forbidden);
        v1.MapPost("/presence/query", PresenceQueryAsync).WithTags("Presence").WithName("QueryPresenceWithBody")
            .WithSummary("The presence of contacts, the ids in the body (for lists too long for a URL)").ProducesProblem(StatusCodes.Status403Forbidden);
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

    private static async Task<Created<WireGroupChange>> CreateGroupAsync(CreateGroupRequest request, HttpContext http, GrainReferences grains)
    {
        var change = await Requests.CreateGroupAsync(grains, http.User.UserId(), request.Title, request.UserIds);
        return TypedResults.Created($"/v1/conversations/{change.Conversation.ConversationId}", change.ToWire());
    }

    private static async Task<Ok<WireGroupChange>> AddMembersAsync(string conversationId, AddMembersRequest request, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await Requests.AddMembersAsync(grains, http.User.UserId(), conversationId, request.UserIds)).ToWire());

    private static async Task<Ok<WireGroupChange>> RemoveMemberAsync(string conversationId, string userId, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await Requests.RemoveMemberAsync(grains, http.User.UserId(), conversationId, userId)).ToWire());

    private static async Task<Ok<WireGroupChange>> SetRoleAsync(string conversationId, string userId, SetRoleRequest request, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await Requests.SetRoleAsync(grains, http.User.UserId(), conversationId, userId, request.Role)).ToWire());

    private static async Task<Ok<WireGroupChange>> RenameAsync(string conversationId, RenameGroupRequest request, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await Requests.RenameAsync(grains, http.User.UserId(), conversationId, request.Title)).ToWire());

    private static async Task<Ok<WireGroupChange>> LeaveAsync(string conversationId, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok((await Requests.LeaveAsync(grains, http.User.UserId(), conversationId)).ToWire());

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
        string conversationId, QueryInteger? before, QueryInteger? after, QueryInteger? limit, HttpContext http, GrainReferences grains)
    {
        var page = await Requests.HistoryAsync(grains, http.User.UserId(), conversationId,
            before.Read(nameof(before)), after.Read(nameof(after)), limit.Read(nameof(limit)));
        return TypedResults.Ok(page.ToWire(conversationId));
    }

    private static async Task<Ok<WireAck>> SendAsync(string conversationId, SendMessageRequest request, HttpContext http, GrainReferences grains)
    {
        var ack = await Requests.SendAsync(grains, http.User.UserId(), conversationId, request.ClientMsgId, request.Text);
        return TypedResults.Ok(ack.ToWire());
    }

    private static async Task<Ok<WireMessageReceipts>> ReceiptsAsync(string conversationId, string seq, HttpContext http, GrainReferences grains)
    {
        var conversation = Requests.CheckConversationId(conversationId);
        if (!long.TryParse(seq, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            throw new MessengerException(ErrorCode.InvalidRequest, "the message seq in the path must be a whole number.");
        }
        var detail = await grains.Conversation(conversation).GetReceiptsAsync(http.User.UserId(), value);
        return TypedResults.Ok(detail.ToWire(conversation));
    }

    private static async Task<Ok<WireMute>> MuteAsync(string conversationId,
        [Microsoft.AspNetCore.Mvc.FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] MuteRequest? request, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok(new WireMute(conversationId, await Requests.MuteAsync(grains, http.User.UserId(), conversationId, true, request?.Until)));

    private static async Task<Ok<WireMute>> UnmuteAsync(string conversationId, HttpContext http, GrainReferences grains) =>
        TypedResults.Ok(new WireMute(conversationId, await Requests.MuteAsync(grains, http.User.UserId(), conversationId, false, null)));

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

    /// <summary>As the GET, for the documented 500 ids: their URL (about 17 KB) is longer than many proxies take.</summary>
    private static async Task<Ok<WirePresenceList>> PresenceQueryAsync(PresenceQueryRequest request, HttpContext http, GrainReferences grains)
    {
        var statuses = await Requests.QueryPresenceAsync(grains, http.User.UserId(), request.UserIds);
        return TypedResults.Ok(new WirePresenceList(statuses.ToWire()));
    }

    private static async Task<Ok<WireSyncPage>> SyncAsync(QueryInteger? after, QueryInteger? limit, HttpContext http, GrainReferences grains)
    {
        var page = await Requests.SyncAsync(grains, http.User.UserId(), after.Read(nameof(after)), limit.Read(nameof(limit)));
        return TypedResults.Ok(page.ToWire());
    }
}
