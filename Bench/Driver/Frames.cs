using System.Buffers.Text;
using System.Text.Json;

namespace Messenger.Bench.Driver;

/// <summary>Server frame types the bench tells apart.</summary>
public enum FrameType { Other, Hello, Ack, Updates, SyncResult, HistoryResult, Pong, Error }

/// <summary>
/// Allocation-free reading of server frames with <see cref="Utf8JsonReader"/>. The gateway writes
/// <c>type</c> as the first property of every frame (the wire records declare it first), and so does
/// the bench's relay; <see cref="TypeOf"/> relies on that and answers <see cref="FrameType.Other"/> otherwise.
/// </summary>
public static class Frames
{
    public static FrameType TypeOf(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        return ReadType(ref reader);
    }

    /// <summary>Reads the leading <c>{"type":"…"</c> and leaves the reader after the value.</summary>
    public static FrameType ReadType(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return FrameType.Other;
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("type"u8)) return FrameType.Other;
        if (!reader.Read() || reader.TokenType != JsonTokenType.String) return FrameType.Other;
        var value = reader.ValueSpan;
        if (value.SequenceEqual("updates"u8)) return FrameType.Updates;
        if (value.SequenceEqual("ack"u8)) return FrameType.Ack;
        if (value.SequenceEqual("hello"u8)) return FrameType.Hello;
        if (value.SequenceEqual("sync_result"u8)) return FrameType.SyncResult;
        if (value.SequenceEqual("history_result"u8)) return FrameType.HistoryResult;
        if (value.SequenceEqual("pong"u8)) return FrameType.Pong;
        if (value.SequenceEqual("error"u8)) return FrameType.Error;
        return FrameType.Other;
    }

    /// <summary>A top-level number property, or 0 when absent.</summary>
    public static long ReadTopLevelLong(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(frame);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(name))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0;
            }
        }
        return 0;
    }

    /// <summary>Parses a request id the bench wrote as a decimal string.</summary>
    public static long ParseId(ReadOnlySpan<byte> value) => Utf8Parser.TryParse(value, out long id, out _) ? id : -1;

    /// <summary>
    /// The summary of a reply frame: its id, how many items its updates/messages array holds, the
    /// first and last item's userSeq (sync) or seq (history), and the top-level hasMore, userSeq, lastSeq, code.
    /// </summary>
    public static Reply ReadReply(FrameType type, ref Utf8JsonReader reader, long receivedUs)
    {
        var reply = new Reply { Type = type, ReceivedUs = receivedUs, Id = -1 };
        var itemKey = type == FrameType.SyncResult ? "userSeq"u8 : "seq"u8;
        while (reader.Read())
        {
            var depth = reader.CurrentDepth;
            if (reader.TokenType == JsonTokenType.StartObject && depth == 2)
            {
                reply.Items++;
                continue;
            }
            if (reader.TokenType != JsonTokenType.PropertyName || depth is not (1 or 3)) continue;
            if (depth == 3)
            {
                if (!reader.ValueTextEquals(itemKey)) continue;
                reader.Read();
                var seq = reader.GetInt64();
                if (reply.Items == 1) reply.FirstItemSeq = seq;
                reply.LastItemSeq = seq;
                continue;
            }
            if (reader.ValueTextEquals("id"u8)) { reader.Read(); reply.Id = reader.TokenType == JsonTokenType.String ? ParseId(reader.ValueSpan) : -1; }
            else if (reader.ValueTextEquals("hasMore"u8)) { reader.Read(); reply.HasMore = reader.TokenType == JsonTokenType.True; }
            else if (reader.ValueTextEquals("userSeq"u8)) { reader.Read(); reply.UserSeq = reader.GetInt64(); }
            else if (reader.ValueTextEquals("lastSeq"u8)) { reader.Read(); reply.LastSeq = reader.GetInt64(); }
            else if (reader.ValueTextEquals("seq"u8)) { reader.Read(); reply.Seq = reader.GetInt64(); }
            else if (reader.ValueTextEquals("code"u8)) { reader.Read(); reply.ErrorCode = reader.GetString(); }
            else if (reader.ValueTextEquals("message"u8) && type == FrameType.Error) { reader.Read(); reply.ErrorMessage = reader.GetString(); }
        }
        return reply;
    }
}

/// <summary>What <see cref="Frames.ReadReply"/> found in a reply frame.</summary>
public struct Reply
{
    public FrameType Type;
    public long Id;
    public long ReceivedUs;
    public int Items;
    public long FirstItemSeq;
    public long LastItemSeq;
    public bool HasMore;
    public long UserSeq;
    public long LastSeq;
    public long Seq;
    public string? ErrorCode;
    public string? ErrorMessage;
}
