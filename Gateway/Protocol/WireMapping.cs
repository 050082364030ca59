using Messenger.Grains;

namespace Messenger.Gateway.Protocol;

/// <summary>Explicit conversions from grain models to wire types.</summary>
public static class WireMapping
{
    public static WireMessage ToWire(this ChatMessage m) =>
        new(m.ConversationId, m.Seq, m.SenderId, m.ClientMsgId, m.Text, m.SentAt);

    public static string ToWire(this UpdateKind kind) => kind == UpdateKind.Message ? "message" : "read";

    public static WireUpdate ToWire(this UserUpdate u) => new(u.UserSeq, u.Kind.ToWire(), u.ConversationId, u.Seq, u.Message?.ToWire());

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

    public static WireConversation ToWire(this ConversationInfo c) => new(c.ConversationId, c.Kind.ToWire(), c.Members, c.CreatedAt);

    public static WireConversationSummary ToWire(this ConversationSummary s) =>
        new(s.ConversationId, s.Kind.ToWire(), s.Members, s.LastSeq, s.ReadSeq, s.Unread, s.LastMessage?.ToWire());

    public static WireUser ToWire(this UserProfile p) => new(p.UserId, p.Username, p.CreatedAt);

    public static WireDevice ToWire(this DeviceInfo d, string currentDeviceId) =>
        new(d.DeviceId, d.Name, d.CreatedAt, d.LastActiveAt, d.Live, d.DeviceId == currentDeviceId);
}
