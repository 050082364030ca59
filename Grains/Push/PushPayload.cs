using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Messenger.Grains.Push;

/// <summary>
/// The JSON a notification carries (docs/PROTOCOL.md, push notifications): content-free by default
/// (which conversation, who, how many, the unread count; the app fetches the message), with the
/// start of the text only for users who turned previews on.
/// </summary>
public static class PushPayload
{
    // Text as UTF-8, escaped only where JSON requires it: a preview in any script stays within a Web Push payload.
    private static readonly JsonWriterOptions Writing = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The notification itself (the Web Push payload, and the webhook body's <c>notification</c>).</summary>
    public static byte[] Notification(string id, PushSend send, string? preview)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Writing))
        {
            WriteNotification(w, id, send, preview);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A webhook's body: the notification and where it is for.</summary>
    public static byte[] Webhook(string id, string userId, string deviceId, string token, PushSend send, string? preview)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, Writing))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("userId", userId);
            w.WriteString("deviceId", deviceId);
            w.WriteString("token", token);
            w.WritePropertyName("notification");
            WriteNotification(w, id, send, preview);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The Web Push <c>Topic</c> of a conversation: a push service keeps only the newest undelivered notification per topic.</summary>
    public static string Topic(string conversationId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(conversationId));
        return System.Buffers.Text.Base64Url.EncodeToString(hash)[..32];
    }

    /// <summary>The start of a text, at most <paramref name="length"/> characters, never splitting a surrogate pair.</summary>
    public static string Preview(string text, int length)
    {
        if (text.Length <= length) return text;
        var cut = char.IsHighSurrogate(text[length - 1]) ? length - 1 : length;
        return text[..cut] + "…";
    }

    private static void WriteNotification(Utf8JsonWriter w, string id, PushSend send, string? preview)
    {
        var r = send.Record;
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "message");
        w.WriteString("conversationId", r.ConversationId);
        w.WriteNumber("seq", r.Seq);
        w.WriteString("senderId", r.SenderId);
        w.WriteString("sentAt", DateTimeOffset.FromUnixTimeMilliseconds(r.SentAtMs));
        w.WriteNumber("count", send.Count);
        w.WriteNumber("unread", send.Unread);
        if (preview is not null) w.WriteString("preview", preview);
        w.WriteEndObject();
    }
}
