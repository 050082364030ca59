using System.Text;
using System.Text.Unicode;

namespace Messenger.Bench.Driver;

/// <summary>Client frames as UTF-8 (shapes in Gateway/Protocol/WireModels.cs, ClientFrame).</summary>
public static class FrameWriter
{
    /// <summary>A message text of <paramref name="bytes"/> ASCII characters (no JSON escaping needed).</summary>
    public static string Text(int bytes)
    {
        const string Filler = "the quick brown fox jumps over the lazy dog ";
        var builder = new StringBuilder(bytes);
        while (builder.Length < bytes) builder.Append(Filler);
        return builder.ToString(0, Math.Max(1, bytes)).Replace(' ', '_');
    }

    /// <summary>
    /// A chat send written into <paramref name="destination"/> without allocating. The clientMsgId
    /// <c>step.sender.n.scheduledUs.writtenUs</c> carries everything the receiver needs to score the
    /// message (latency from the schedule and from the write, loss, duplicates, order) with no lookup.
    /// </summary>
    public static int ChatSend(Span<byte> destination, string conversationId, int step, int sender, long n, long scheduledUs, long writtenUs, string text) =>
        Utf8.TryWrite(destination,
            $$"""{"type":"send","id":"{{n}}","conversationId":"{{conversationId}}","clientMsgId":"{{step}}.{{sender}}.{{n}}.{{scheduledUs}}.{{writtenUs}}","text":"{{text}}"}""",
            out var written)
            ? written
            : throw new ArgumentException("frame buffer too small", nameof(destination));

    /// <summary>Parses a chat clientMsgId written by <see cref="ChatSend"/>; false for anything else.</summary>
    public static bool TryParseChatId(ReadOnlySpan<byte> value, out int step, out int sender, out long n, out long scheduledUs, out long writtenUs)
    {
        step = sender = 0;
        n = scheduledUs = writtenUs = 0;
        return Next(ref value, out var a) && Next(ref value, out var b) && Next(ref value, out n)
            && Next(ref value, out scheduledUs) && Next(ref value, out writtenUs) && value.IsEmpty
            && (step = (int)a) >= 0 && (sender = (int)b) >= 0;

        static bool Next(ref ReadOnlySpan<byte> rest, out long number)
        {
            number = 0;
            var i = 0;
            for (; i < rest.Length && rest[i] != (byte)'.'; i++)
            {
                var digit = rest[i] - '0';
                if ((uint)digit > 9) return false;
                number = number * 10 + digit;
            }
            if (i == 0) return false;
            rest = i < rest.Length ? rest[(i + 1)..] : [];
            return true;
        }
    }

    public static byte[] Send(long id, string conversationId, string clientMsgId, string text) =>
        Encoding.UTF8.GetBytes($$"""{"type":"send","id":"{{id}}","conversationId":"{{conversationId}}","clientMsgId":"{{clientMsgId}}","text":"{{text}}"}""");

    public static byte[] Sync(long id, long after, int limit) =>
        Encoding.UTF8.GetBytes($$"""{"type":"sync","id":"{{id}}","after":{{after}},"limit":{{limit}}}""");

    public static byte[] History(long id, string conversationId, long before, int limit) =>
        Encoding.UTF8.GetBytes($$"""{"type":"history","id":"{{id}}","conversationId":"{{conversationId}}","before":{{before}},"limit":{{limit}}}""");

    public static byte[] Ping(long id) => Encoding.UTF8.GetBytes($$"""{"type":"ping","id":"{{id}}"}""");
}
