using System.Buffers;
using System.Text.Json;
using Messenger.Grains;

namespace Messenger.Gateway.Protocol;

/// <summary>
/// Turns a pushed <see cref="UpdateBatch"/> into one <c>updates</c> frame per user this gateway
/// holds sockets for. Each message is serialised once for the whole batch, and only if some frame
/// needs it; its bytes are copied into every frame that carries it, so a message bound for a
/// thousand users on this gateway costs one serialisation here. The frames are exactly what
/// <see cref="UpdatesFrame"/> serialises to.
/// </summary>
public static class UpdateFrames
{

    private static readonly int[] OnlyUpdate = [0];

    /// <summary>
    /// Calls <paramref name="deliver"/> with each user of the batch for whom <paramref name="wanted"/>
    /// holds, their frame, and the indexes in the batch of the updates it carries (in batch order).
    /// Users not wanted cost no serialisation.
    /// </summary>
    public static void ForEachUser(UpdateBatch batch, Func<string, bool> wanted, Action<UpdateBatch, string, byte[], IReadOnlyList<int>> deliver)
    {
        var messages = new byte[]?[batch.Messages.Count];
        var updates = batch.Updates;
        if (updates.Count == 1)
        {
            if (wanted(updates[0].UserId)) deliver(batch, updates[0].UserId, Frame(updates, OnlyUpdate, batch.Messages, messages), OnlyUpdate);
            return;
        }
        // A user's updates in batch order (which is their userSeq order).
        var byUser = new Dictionary<string, List<int>?>(StringComparer.Ordinal);
        for (var i = 0; i < updates.Count; i++)
        {
            var userId = updates[i].UserId;
            if (!byUser.TryGetValue(userId, out var indexes)) byUser[userId] = indexes = wanted(userId) ? new List<int>(1) : null;
            indexes?.Add(i);
        }
        foreach (var (userId, indexes) in byUser)
        {
            if (indexes is not null) deliver(batch, userId, Frame(updates, indexes, batch.Messages, messages), indexes);
        }
    }

    /// <summary>True for a frame this class built (an <c>updates</c> frame): it starts with exactly these bytes.</summary>
    public static bool IsUpdatesFrame(ReadOnlySpan<byte> frame) => frame.StartsWith("{\"type\":\"updates\""u8);

    // One buffer and writer per thread, reused: Utf8JsonWriter asks its buffer for 4 KiB at a time,
    // which a fresh buffer per frame would allocate every time. Only the finished frame is copied out.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static byte[] Frame(IReadOnlyList<PushedUpdate> updates, IReadOnlyList<int> indexes, IReadOnlyList<ChatMessage> messages, byte[]?[] serialised)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var w = t_writer ??= new Utf8JsonWriter(buffer, WireJson.WriterOptions);
        w.Reset(buffer);
        w.WriteStartObject();
        w.WriteString("type"u8, "updates"u8);
        w.WriteStartArray("updates"u8);
        foreach (var index in indexes)
        {
            var u = updates[index];
            w.WriteStartObject();
            w.WriteNumber("userSeq"u8, u.UserSeq);
            w.WriteString("kind"u8, u.Kind.ToWire());
            w.WriteString("conversationId"u8, u.ConversationId);
            w.WriteNumber("seq"u8, WireMapping.WireSeq(u.Kind, u.Seq));
            if (WireMapping.MutedUntil(u.Kind, u.Seq) is { } mutedUntil) w.WriteString("mutedUntil"u8, mutedUntil);
            if (u.MessageIndex >= 0)
            {
                w.WritePropertyName("message"u8);
                w.WriteRawValue(serialised[u.MessageIndex] ??= WireJson.ToUtf8Bytes(messages[u.MessageIndex].ToWire(), WireJson.Context.WireMessage),
                    skipInputValidation: true);
            }
            if (u.Receipts is { } receipts)
            {
                w.WriteStartArray("receipts"u8);
                foreach (var r in receipts)
                {
                    w.WriteStartObject();
                    w.WriteNumber("seq"u8, r.Seq);
                    w.WriteNumber("delivered"u8, r.Delivered);
                    w.WriteNumber("read"u8, r.Read);
                    w.WriteNumber("of"u8, r.Of);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
