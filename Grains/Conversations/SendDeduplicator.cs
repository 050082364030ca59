using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Messenger.Grains.Conversations;

/// <summary>What <see cref="SendDeduplicator"/> remembers of an earlier send with the same key.</summary>
/// <param name="Pending">The earlier send's ack while it is not given yet; null once it is.</param>
/// <param name="Seq">Once the ack is given, the seq the message was committed at.</param>
/// <param name="UserSeq">Once the ack is given, its <c>userSeq</c> in the sender's log.</param>
internal readonly record struct EarlierSend(Task<SendAck>? Pending, long Seq, long UserSeq);

/// <summary>
/// Remembers recent sends by <c>(senderId, clientMsgId)</c>, so a retry that arrives while the original is still
/// in flight, or soon after, is answered from memory. While a send is in flight its ack task is kept (a retry
/// waits for the same outcome); once the ack is given only where the message landed is kept (its seq and
/// userSeq: the message itself is in the conversation's recent messages), so an entry holds no object of its
/// own for the rest of its life. Entries leave after <c>maxAge</c> or beyond <c>capacity</c>; an older retry
/// falls through to the store's unique index, which answers it the same way (also when the original is still
/// being committed: the store then finds it in the same or an earlier batch).
/// </summary>
internal sealed class SendDeduplicator(int capacity, TimeSpan maxAge, TimeProvider time)
{
    private readonly Dictionary<(string Sender, string ClientMsgId), EarlierSend> _sends = [];
    private readonly Queue<((string, string) Key, long AddedAt)> _order = new();

    public int Count => _sends.Count;

    public bool TryGet(string senderId, string clientMsgId, out EarlierSend earlier)
    {
        Evict();
        return _sends.TryGetValue((senderId, clientMsgId), out earlier);
    }

    /// <summary>A send now in flight; it replaces what was kept of an earlier one with the same key, which keeps its age.</summary>
    public void Add(string senderId, string clientMsgId, Task<SendAck> ack)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_sends, (senderId, clientMsgId), out var known);
        entry = new EarlierSend(ack, 0, 0);
        if (!known) _order.Enqueue(((senderId, clientMsgId), time.GetTimestamp()));
        Evict();
    }

    /// <summary>The send's ack was given: from now on only where its message landed is kept.</summary>
    public void Settled(string senderId, string clientMsgId, long seq, long userSeq)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_sends, (senderId, clientMsgId));
        if (!Unsafe.IsNullRef(ref entry)) entry = new EarlierSend(null, seq, userSeq);
    }

    /// <summary>Forgets a send (it failed, or what was kept of it no longer answers a retry), so a retry is tried again.</summary>
    public void Remove(string senderId, string clientMsgId) => _sends.Remove((senderId, clientMsgId));

    private void Evict()
    {
        var now = time.GetTimestamp();
        while (_order.TryPeek(out var oldest) && (_order.Count > capacity || time.GetElapsedTime(oldest.AddedAt, now) > maxAge))
        {
            _order.Dequeue();
            _sends.Remove(oldest.Key);
        }
    }
}
