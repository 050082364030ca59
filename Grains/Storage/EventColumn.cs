using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Messenger.Grains.Storage;

/// <summary>
/// How every backend stores a membership event in the <c>event</c> column of a message row: a small JSON
/// object <c>{"type":2,"users":["…"],"title":"…","role":2}</c> (numbers are the enums' values; absent
/// members are left out). Text messages store null.
/// </summary>
internal static class EventColumn
{
    public static string? Encode(ConversationEvent? e)
    {
        if (e is null) return null;
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("type", (int)e.Type);
            w.WriteStartArray("users");
            foreach (var user in e.UserIds) w.WriteStringValue(user);
            w.WriteEndArray();
            if (e.Title is not null) w.WriteString("title", e.Title);
            if (e.Role is { } role) w.WriteNumber("role", (int)role);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static ConversationEvent? Decode(string? text)
    {
        if (text is null) return null;
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        var users = new List<string>();
        foreach (var user in root.GetProperty("users").EnumerateArray()) users.Add(user.GetString()!);
        var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
        MemberRole? role = root.TryGetProperty("role", out var r) ? (MemberRole)r.GetInt32() : null;
        return new ConversationEvent((ConversationEventType)root.GetProperty("type").GetInt32(), users, title, role);
    }
}

/// <summary>
/// How every backend stores the counts of a receipts update in the <c>receipts</c> column of a user's update
/// row: a JSON array of <c>[seq, delivered, read, of]</c> arrays. Other updates store null.
/// </summary>
internal static class ReceiptsColumn
{
    public static string? Encode(IReadOnlyList<MessageReceipt>? receipts)
    {
        if (receipts is null) return null;
        var text = new StringBuilder(receipts.Count * 24).Append('[');
        for (var i = 0; i < receipts.Count; i++)
        {
            var r = receipts[i];
            if (i > 0) text.Append(',');
            text.Append('[').Append(r.Seq).Append(',').Append(r.Delivered).Append(',').Append(r.Read).Append(',').Append(r.Of).Append(']');
        }
        return text.Append(']').ToString();
    }

    public static IReadOnlyList<MessageReceipt>? Decode(string? text)
    {
        if (text is null) return null;
        using var doc = JsonDocument.Parse(text);
        var list = new List<MessageReceipt>();
        foreach (var r in doc.RootElement.EnumerateArray())
        {
            list.Add(new MessageReceipt(r[0].GetInt64(), r[1].GetInt32(), r[2].GetInt32(), r[3].GetInt32()));
        }
        return list;
    }
}
