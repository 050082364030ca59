using Messenger.Grains;

namespace Messenger.Gateway.Protocol;

/// <summary>Explicit conversions from grain models to wire types.</summary>
public static class WireMapping
{
    public static WireMessage ToWire(this ChatMessage m) =>
        new(m.ConversationId, m.Seq, m.SenderId, m.ClientMsgId, m.Text, m.SentAt, m.Event?.ToWire());

    public static WireEvent ToWire(this ConversationEvent e) => new(e.Type switch
    {
        ConversationEventType.Created => "created",
        ConversationEventType.MembersAdded => "members_added",
        ConversationEventType.MemberRemoved => "member_removed",
        ConversationEventType.MemberLeft => "member_left",
        ConversationEventType.Renamed => "renamed",
        _ => "role_changed",
    }, e.UserIds, e.Title, e.Role?.ToWire());

    public static string ToWire(this MemberRole role) => role switch
    {
        MemberRole.Owner => "owner",
        MemberRole.Admin => "admin",
        _ => "member",
    };

    /// <summary>A role as the wire names it, or null for a name that is not one.</summary>
    public static MemberRole? ParseRole(string? role) => role switch
    {
        "owner" => MemberRole.Owner,
        "admin" => MemberRole.Admin,
        "member" => MemberRole.Member,
        _ => null,
    };

    public static string ToWire(this UpdateKind kind) => kind switch
    {
        UpdateKind.Message => "message",
        UpdateKind.Read => "read",
        UpdateKind.Mute => "mute",
        _ => "receipts",
    };

    public static WireUpdate ToWire(this UserUpdate u) =>
        new(u.UserSeq, u.Kind.ToWire(), u.ConversationId, WireSeq(u.Kind, u.Seq), u.Message?.ToWire(), u.Receipts?.ToWire(), MutedUntil(u.Kind, u.Seq));

    /// <summary>An update's <c>seq</c> on the wire: a mute update's stored seq is the mute's end, which goes in <c>mutedUntil</c> instead (its seq is 0).</summary>
    public static long WireSeq(UpdateKind kind, long seq) => kind == UpdateKind.Mute ? 0 : seq;

    /// <summary>A mute update's end (its stored seq, unix ms); null for an unmute and for every other kind.</summary>
    public static DateTimeOffset? MutedUntil(UpdateKind kind, long seq) =>
        kind == UpdateKind.Mute && seq != 0 ? DateTimeOffset.FromUnixTimeMilliseconds(seq) : null;

    public static WireReceipt[] ToWire(this IReadOnlyList<MessageReceipt> receipts)
    {
        var wire = new WireReceipt[receipts.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = new(receipts[i].Seq, receipts[i].Delivered, receipts[i].Read, receipts[i].Of);
        return wire;
    }

    public static WireMessageReceipts ToWire(this MessageReceiptDetail d, string conversationId) =>
        new(conversationId, d.Seq, d.SenderId, d.Of, d.DeliveredTo, d.ReadBy);

    public static WireUpdate[] ToWire(this IReadOnlyList<UserUpdate> updates)
    {
        var wire = new WireUpdate[updates.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = updates[i].ToWire();
        return wire;
    }

    public static WireMessage[] ToWire(this IReadOnlyList<ChatMessage> messages)
    {
        var wire = new WireMessage[messages.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = messages[i].ToWire();
        return wire;
    }

    public static WireAck ToWire(this SendAck a) =>
        new(a.Message.ConversationId, a.Message.Seq, a.UserSeq, a.Message.ClientMsgId, a.Message.SentAt, a.Duplicate, a.OfflineRecipients);

    /// <summary>The socket's ack frame: the REST ack's fields after <c>type</c> and <c>id</c>.</summary>
    public static AckFrame ToAckFrame(this SendAck a, string? id) =>
        new("ack", id, a.Message.ConversationId, a.Message.Seq, a.UserSeq, a.Message.ClientMsgId, a.Message.SentAt, a.Duplicate, a.OfflineRecipients);

    public static WirePresence ToWire(this PresenceStatus p) => new(p.UserId, p.Online, p.LastSeen);

    public static WirePresence[] ToWire(this IReadOnlyList<PresenceStatus> statuses)
    {
        var wire = new WirePresence[statuses.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = statuses[i].ToWire();
        return wire;
    }

    public static TypingFrame ToWire(this TypingEvent t) => new("typing", t.ConversationId, t.UserId, t.Typing, t.ExpiresInMs);

    public static WireSyncPage ToWire(this SyncPage p) => new(p.Updates.ToWire(), p.HasMore, p.LastUserSeq);

    public static WireHistoryPage ToWire(this HistoryPage p, string conversationId) =>
        new(conversationId, p.Messages.ToWire(), p.HasMore, p.LastSeq);

    public static string ToWire(this ConversationKind kind) => kind == ConversationKind.Direct ? "direct" : "group";

    public static WireConversation ToWire(this ConversationInfo c) =>
        new(c.ConversationId, c.Kind.ToWire(), c.Members, c.CreatedAt, c.MemberCount, c.Title, c.Owners, c.Admins);

    public static WireConversationSummary ToWire(this ConversationSummary s)
    {
        var c = s.Conversation;
        var group = c.Kind == ConversationKind.Group;
        return new(c.ConversationId, c.Kind.ToWire(), group ? null : c.Members, c.MemberCount, c.Title, s.Left,
            s.LastSeq, s.ReadSeq, s.Unread, s.LastMessage?.ToWire(), s.MutedUntil);
    }

    public static WireGroupChange ToWire(this GroupChange g)
    {
        var events = new WireAck[g.Events.Count];
        for (var i = 0; i < events.Length; i++) events[i] = g.Events[i].ToWire();
        return new(g.Conversation.ToWire(), events);
    }

    public static WireUser ToWire(this UserProfile p) => new(p.UserId, p.Username, p.CreatedAt);

    public static WireDevice ToWire(this DeviceInfo d, string currentDeviceId) =>
        new(d.DeviceId, d.Name, d.CreatedAt, d.LastActiveAt, d.Live, d.DeviceId == currentDeviceId);

    public static WirePushSubscription ToWire(this DevicePushSubscription s, string currentDeviceId) => new(
        s.DeviceId, s.Subscription.Kind == PushKind.WebPush ? "webPush" : "webhook", s.Subscription.Endpoint, s.Subscription.Target,
        s.CreatedAt, s.DeviceId == currentDeviceId);

    public static WirePushStatus ToWire(this PushStatus s) => new(
        s.NotificationId, s.ConversationId, s.Seq, s.UserSeq, s.State.ToWire(), s.Attempts, s.Detail, s.CreatedAt, s.UpdatedAt);

}
