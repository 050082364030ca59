using System.Text.Json;
using System.Text.Json.Serialization;

namespace Messenger.Client;

/// <summary>A frame the client writes; null fields are left out.</summary>
internal sealed class OutFrame
{
    public string? Type { get; set; }
    public string? Id { get; set; }
    public string? ConversationId { get; set; }
    public string? ClientMsgId { get; set; }
    public string? Text { get; set; }
    public long? After { get; set; }
    public long? Before { get; set; }
    public int? Limit { get; set; }
    public long? Seq { get; set; }
    public List<string>? UserIds { get; set; }
    public string? UserId { get; set; }
    public string? Title { get; set; }
    public string? Role { get; set; }
    public bool? Muted { get; set; }
    public DateTimeOffset? Until { get; set; }
}

/// <summary>Any frame the server writes; which fields are set depends on <see cref="Type"/>.</summary>
internal sealed class InFrame
{
    public string? Type { get; set; }
    public string? Id { get; set; }
    public string? Code { get; set; }
    public string? Message { get; set; }
    public string? UserId { get; set; }
    public string? DeviceId { get; set; }
    public long UserSeq { get; set; }
    public string? ConversationId { get; set; }
    public long Seq { get; set; }
    public long ReadSeq { get; set; }
    public long LastSeq { get; set; }
    public string? ClientMsgId { get; set; }
    public DateTimeOffset SentAt { get; set; }
    public bool Duplicate { get; set; }
    public bool HasMore { get; set; }
    public List<Update>? Updates { get; set; }
    public List<Message>? Messages { get; set; }
    public List<string>? OfflineRecipients { get; set; }
    public List<Presence>? Users { get; set; }
    public bool Typing { get; set; }
    public int ExpiresInMs { get; set; }
    public int MaxFrameBytes { get; set; }
    public Conversation? Conversation { get; set; }
    public List<Ack>? Events { get; set; }
    public DateTimeOffset? MutedUntil { get; set; }
}

internal sealed record ProblemBody(string? Code, string? Detail, string? Title);
internal sealed record Credentials(string Username, string Password, string? DeviceId = null, string? DeviceName = null);
internal sealed record PasswordBody(string Password);
internal sealed record DeviceList(IReadOnlyList<Device> Devices);
internal sealed record UserRef(string UserId);
internal sealed record SendBody(string ClientMsgId, string Text);
internal sealed record ReadBody(long Seq);
internal sealed record MuteBody(DateTimeOffset? Until);
internal sealed record CreateGroupBody(string Title, IReadOnlyList<string> UserIds);
internal sealed record TitleBody(string Title);
internal sealed record RoleBody(string Role);

/// <summary>Body of POST /v1/presence/query and PUT /v1/poll/presence.</summary>
internal sealed record UserIdsBody(IReadOnlyList<string> UserIds);
internal sealed record ConversationList(IReadOnlyList<ConversationSummary> Conversations);
internal sealed record PresenceList(IReadOnlyList<Presence> Users);

/// <summary>Body of PUT /v1/push/subscription: one of the two.</summary>
internal sealed record PushSubscriptionBody(WebPushBody? WebPush, WebhookBody? Webhook);

internal sealed record WebPushBody(string Endpoint, WebPushKeysBody Keys);

internal sealed record WebPushKeysBody(string P256dh, string Auth);

internal sealed record WebhookBody(string Target, string Token);

internal sealed record PushSubscriptionList(IReadOnlyList<PushSubscriptionInfo> Subscriptions);

internal sealed record PushStatusList(IReadOnlyList<PushStatus> Notifications);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OutFrame))]
[JsonSerializable(typeof(InFrame))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(Credentials))]
[JsonSerializable(typeof(UserRef))]
[JsonSerializable(typeof(SendBody))]
[JsonSerializable(typeof(ReadBody))]
[JsonSerializable(typeof(ConversationList))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(Conversation))]
[JsonSerializable(typeof(Ack))]
[JsonSerializable(typeof(SyncPage))]
[JsonSerializable(typeof(HistoryPage))]
[JsonSerializable(typeof(ReadMark))]
[JsonSerializable(typeof(PresenceList))]
[JsonSerializable(typeof(PollResult))]
[JsonSerializable(typeof(UserIdsBody))]
[JsonSerializable(typeof(PasswordBody))]
[JsonSerializable(typeof(DeviceList))]
[JsonSerializable(typeof(CreateGroupBody))]
[JsonSerializable(typeof(TitleBody))]
[JsonSerializable(typeof(RoleBody))]
[JsonSerializable(typeof(GroupChange))]
[JsonSerializable(typeof(MessageReceipts))]
[JsonSerializable(typeof(MuteState))]
[JsonSerializable(typeof(MuteBody))]
[JsonSerializable(typeof(PushConfig))]
[JsonSerializable(typeof(PushSubscriptionBody))]
[JsonSerializable(typeof(PushSubscriptionInfo))]
[JsonSerializable(typeof(PushSubscriptionList))]
[JsonSerializable(typeof(PushSettings))]
[JsonSerializable(typeof(PushStatusList))]
internal sealed partial class ClientJson : JsonSerializerContext;
