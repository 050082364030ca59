using Messenger.Gateway.Auth;
using Messenger.Gateway.Protocol;
using Messenger.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Messenger.Gateway.Endpoints;

/// <summary>Push notifications: the server's VAPID key, each device's subscription, the user's settings, and what became of each notification.</summary>
public static class PushEndpoints
{
    public static RouteGroupBuilder MapPushEndpoints(this RouteGroupBuilder v1)
    {
        var push = v1.MapGroup("/push").WithTags("Push");
        push.MapGet("/config", ConfigAsync).WithName("GetPushConfig")
            .WithSummary("The server's VAPID public key, for PushManager.subscribe");
        push.MapPut("/subscription", SubscribeAsync).WithName("SetPushSubscription")
            .WithSummary("Sets the calling device's push subscription (Web Push or a configured webhook), replacing its previous one")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        push.MapDelete("/subscription", UnsubscribeCurrentAsync).WithName("DeleteCurrentPushSubscription")
            .WithSummary("Removes the calling device's push subscription").ProducesProblem(StatusCodes.Status404NotFound);
        push.MapGet("/subscriptions", ListAsync).WithName("ListPushSubscriptions")
            .WithSummary("The caller's push subscriptions, one per device that has one");
        push.MapDelete("/subscriptions/{deviceId}", UnsubscribeAsync).WithName("DeletePushSubscription")
            .WithSummary("Removes a device's push subscription").ProducesProblem(StatusCodes.Status404NotFound);
        push.MapGet("/settings", SettingsAsync).WithName("GetPushSettings")
            .WithSummary("The caller's push settings");
        push.MapPut("/settings", SetSettingsAsync).WithName("SetPushSettings")
            .WithSummary("Replaces the caller's push settings (preview: whether notifications carry the start of the text)");
        v1.MapGet("/conversations/{conversationId}/push", StatusesAsync).WithTags("Push").WithName("ListPushStatuses")
            .WithSummary("What became of the caller's notifications for messages of a conversation")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return v1;
    }

    private static async Task<Ok<WirePushConfig>> ConfigAsync(GrainReferences grains) =>
        TypedResults.Ok(new WirePushConfig(await grains.VapidKeys.GetPublicKeyAsync()));

    private static async Task<Ok<WirePushSubscription>> SubscribeAsync(PushSubscriptionRequest request, HttpContext http, GrainReferences grains)
    {
        var subscription = (request.WebPush, request.Webhook) switch
        {
            ({ } web, null) => new PushSubscription(PushKind.WebPush, Endpoint: web.Endpoint, P256dh: web.Keys?.P256dh, Auth: web.Keys?.Auth),
            (null, { } hook) => new PushSubscription(PushKind.Webhook, Target: hook.Target, Token: hook.Token),
            _ => throw new MessengerException(ErrorCode.InvalidSubscription, "give exactly one of webPush and webhook."),
        };
        var deviceId = http.User.DeviceId();
        var stored = await grains.User(http.User.UserId()).SetPushSubscriptionAsync(deviceId, subscription);
        return TypedResults.Ok(stored.ToWire(deviceId));
    }

    private static async Task<NoContent> UnsubscribeCurrentAsync(HttpContext http, GrainReferences grains)
    {
        await grains.User(http.User.UserId()).DeletePushSubscriptionAsync(http.User.DeviceId());
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WirePushSubscriptionList>> ListAsync(HttpContext http, GrainReferences grains)
    {
        var list = await grains.User(http.User.UserId()).ListPushSubscriptionsAsync();
        var current = http.User.DeviceId();
        var wire = new WirePushSubscription[list.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = list[i].ToWire(current);
        return TypedResults.Ok(new WirePushSubscriptionList(wire));
    }

    private static async Task<NoContent> UnsubscribeAsync(string deviceId, HttpContext http, GrainReferences grains)
    {
        await grains.User(http.User.UserId()).DeletePushSubscriptionAsync(deviceId);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WirePushSettings>> SettingsAsync(HttpContext http, GrainReferences grains) =>
        TypedResults.Ok(new WirePushSettings((await grains.User(http.User.UserId()).GetPushSettingsAsync()).Preview));

    private static async Task<Ok<WirePushSettings>> SetSettingsAsync(PushSettingsRequest request, HttpContext http, GrainReferences grains)
    {
        if (request.Preview is not { } preview) throw new MessengerException(ErrorCode.InvalidRequest, "preview (true or false) is required.");
        var settings = await grains.User(http.User.UserId()).SetPushSettingsAsync(new PushSettings(preview));
        return TypedResults.Ok(new WirePushSettings(settings.Preview));
    }

    private static async Task<Ok<WirePushStatusList>> StatusesAsync(string conversationId, QueryInteger? after, QueryInteger? limit,
        HttpContext http, GrainReferences grains)
    {
        var statuses = await grains.User(http.User.UserId()).ListPushStatusesAsync(conversationId,
            after.Read(nameof(after)) ?? 0, (int)Math.Clamp(limit.Read(nameof(limit)) ?? 50, -1, int.MaxValue));
        var wire = new WirePushStatus[statuses.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = statuses[i].ToWire();
        return TypedResults.Ok(new WirePushStatusList(wire));
    }
}
