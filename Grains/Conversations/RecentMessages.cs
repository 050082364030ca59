using System.Diagnostics.CodeAnalysis;

namespace Messenger.Grains.Conversations;

/// <summary>
/// A ring of a conversation's newest messages, contiguous by seq, so that the pages clients ask
/// for most (the latest ones) are served from memory.
/// </summary>
internal sealed class RecentMessages(int capacity)
{
    private readonly ChatMessage[] _ring = new ChatMessage[Math.Max(capacity, 1)];
    private int _count;
    private int _next;

    /// <summary>Appends a message; it must follow the newest one held.</summary>
    public void Add(ChatMessage message)
    {
        if (capacity == 0) return;
        if (_count > 0 && message.Seq != Newest.Seq + 1)
        {
            _count = 0; // not contiguous: start again rather than serve a page with a hole
        }
        _ring[_next] = message;
        _next = (_next + 1) % _ring.Length;
        if (_count < _ring.Length) _count++;
    }

    /// <summary>Appends messages in ascending seq order.</summary>
    public void AddRange(IReadOnlyList<ChatMessage> messages)
    {
        foreach (var message in messages) Add(message);
    }

    private ChatMessage Newest => _ring[(_next - 1 + _ring.Length) % _ring.Length];

    private ChatMessage At(int index) => _ring[(_next - _count + index + _ring.Length) % _ring.Length];

    /// <summary>The message at <paramref name="seq"/>, if held.</summary>
    public bool TryGet(long seq, [MaybeNullWhen(false)] out ChatMessage message)
    {
        message = null;
        if (_count == 0 || seq < At(0).Seq || seq > Newest.Seq) return false;
        message = At((int)(seq - At(0).Seq));
        return true;
    }

    /// <summary>
    /// The page strictly before or after <paramref name="cursor"/> if every message of it is held;
    /// <paramref name="lastSeq"/> is the conversation's newest seq.
    /// </summary>
    public bool TryGetPage(long cursor, HistoryDirection direction, int limit, long lastSeq, out IReadOnlyList<ChatMessage> page)
    {
        page = [];
        if (_count == 0)
        {
            return lastSeq == 0;
        }
        var oldest = At(0).Seq;
        var newest = Newest.Seq;
        if (newest != lastSeq) return false;
        long from, to; // inclusive seq range wanted
        if (direction == HistoryDirection.Before)
        {
            to = Math.Min(cursor - 1, newest);
            from = Math.Max(1, to - limit + 1);
        }
        else
        {
            from = cursor + 1;
            to = Math.Min(newest, cursor + limit);
        }
        if (to < from) return true; // empty page, known from the log position alone
        if (from < oldest) return false;
        var result = new ChatMessage[to - from + 1];
        var start = (int)(from - oldest);
        for (var i = 0; i < result.Length; i++) result[i] = At(start + i);
        page = result;
        return true;
    }
}
