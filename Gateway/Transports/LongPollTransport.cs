using Messenger.Gateway.Auth;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Protocol;
using Messenger.Gateway.Sessions;
using Messenger.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Transports;

/// <summary>
/// Long-poll, for clients that cannot keep a WebSocket: <c>GET /v1/poll</c> answers the updates after
/// the caller's cursor as soon as there are any (or the hold ends), over one <see cref="PollSession"/> per
/// device; sends and every other request go over REST. No business rules here.
/// </summary>
public static class LongPollTransport
{
    public static RouteGroupBuilder MapLongPoll(this RouteGroupBuilder v1)
    {
        var poll = v1.MapGroup("/poll").WithTags("Long-poll");
        poll.MapGet("", PollAsync).WithName("Poll")
            .WithSummary("Updates after a cursor as soon as there are any, plus queued presence and typing events")
            .ProducesProblem(StatusCodes.Status409Conflict);
        poll.MapPut("/presence", SubscribePresenceAsync).WithName("SubscribePresence")
            .WithSummary("Replaces the polling device's presence subscription").ProducesProblem(StatusCodes.Status403Forbidden);
        return v1;
    }

    private static async Task<Ok<WirePollResult>> PollAsync(QueryInteger? after, QueryInteger? limit, QuerySeconds? wait, HttpContext http,
        PollSessions polls, GatewayNode node, IOptions<GatewayOptions> options)
    {
        var cursor = after.Read(nameof(after));
        var size = limit.Read(nameof(limit));
        var hold = options.Value.PollHold;
        if (wait.Read(nameof(wait)) is { } seconds)
        {
            if (!(seconds >= 0 && seconds <= hold.TotalSeconds))
            {
                throw new MessengerException(ErrorCode.OutOfRange, $"wait must be 0 to {hold.TotalSeconds:0.###} seconds.");
            }
            hold = TimeSpan.FromSeconds(seconds);
        }
        node.EnsureTakingSessions();
        var session = await polls.GetOrAttachAsync(http.User.UserId(), http.User.DeviceId(), http.User.Generation());
        return TypedResults.Ok(await session.PollAsync(node.Grains, cursor, size, hold, http.RequestAborted));
    }

    /// <summary>The polling device's presence subscription, as <c>presence_subscribe</c> on a socket; changes come as poll events.</summary>
    private static async Task<Ok<WirePresenceList>> SubscribePresenceAsync(PresenceSubscriptionRequest request, HttpContext http,
        PollSessions polls, GatewayNode node)
    {
        node.EnsureTakingSessions();
        var session = await polls.GetOrAttachAsync(http.User.UserId(), http.User.DeviceId(), http.User.Generation());
        var statuses = await node.SubscribePresenceAsync(session.Session, request.UserIds);
        return TypedResults.Ok(new WirePresenceList(statuses.ToWire()));
    }
}
