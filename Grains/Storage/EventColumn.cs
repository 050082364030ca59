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
