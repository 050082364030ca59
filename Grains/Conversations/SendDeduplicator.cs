using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Messenger.Grains.Conversations;

/// <summary>What <see cref="SendDeduplicator"/> remembers of an earlier send with the same key.</summary>
/// <param name="Pending">The earlier send's ack while it is not given yet; null once it is.</param>
/// <param name="Message">Once the ack is given, the committed message (the object the recent messages hold).</param>
/// <param name="UserSeq">Once the ack is given, its <c>userSeq</c> in the sender's log.</param>
internal readonly record struct EarlierSend(Task<SendAck>? Pending, ChatMessage? Message, long UserSeq);

/// <summary>
/// Remembers recent sends by <c>(senderId, clientMsgId)</c>, so a retry that arrives while the original is still
/// in flight, or soon after, is answered from memory. While a send is in flight its ack task is kept (a retry
/// waits for the same outcome); once the ack is given only the message and its userSeq are kept (the message is
/// the object the conversation's recent messages hold), so the ack and its task do not outlive the send. Entries
/// leave after <c>maxAge</c> or beyond <c>capacity</c>; an older retry falls through to the store's unique index,
/// which answers it the same way (also when the original is still being committed: the store then finds it in the
/// same or an earlier batch).
/// </summary>
internal sealed class SendDeduplicator(int capacity, TimeSpan maxAge, TimeProvider time)
{
    private readonly Dictionary<(string Sender, string ClientMsgId), (EarlierSend Send, long AddedAt)> _sends = [];
    private readonly Queue<((string, string) Key, long AddedAt)> _order = new();

    public int Count => _sends.Count;

    public bool TryGet(string senderId, string clientMsgId, out EarlierSend earlier)
    {
        Evict();
        var found = _sends.TryGetValue((senderId, clientMsgId), out var entry);
        earlier = entry.Send;
        return found;
    }

    /// <summary>A send now in flight.</summary>
    public void Add(string senderId, string clientMsgId, Task<SendAck> ack)
    {
        var addedAt = time.GetTimestamp();
        if (_sends.TryAdd((senderId, clientMsgId), (new EarlierSend(ack, null, 0), addedAt))) _order.Enqueue(((senderId, clientMsgId), addedAt));
        Evict();
    }

    /// <summary>The send's ack was given: from now on only its message and userSeq are kept.</summary>
    public void Settled(string senderId, string clientMsgId, ChatMessage message, long userSeq)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_sends, (senderId, clientMsgId));
        if (!Unsafe.IsNullRef(ref entry)) entry.Send = new EarlierSend(null, message, userSeq);
    }

    /// <summary>Forgets a send whose outcome must not answer a retry (it failed), so a retry is tried again.</summary>
    public void Remove(string senderId, string clientMsgId) => _sends.Remove((senderId, clientMsgId));

    private void Evict()
    {
        var now = time.GetTimestamp();
        while (_order.TryPeek(out var oldest) && (_order.Count > capacity || time.GetElapsedTime(oldest.AddedAt, now) > maxAge))
        {
            _order.Dequeue();
            // A key forgotten and added again since has a later place in the queue: this one is not its age.
            if (_sends.TryGetValue(oldest.Key, out var entry) && entry.AddedAt == oldest.AddedAt) _sends.Remove(oldest.Key);
        }
    }
}
