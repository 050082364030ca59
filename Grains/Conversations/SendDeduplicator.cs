namespace Messenger.Grains.Conversations;

/// <summary>
/// Remembers the ack of recent sends by <c>(senderId, clientMsgId)</c>, so a retry that arrives
/// while the original is still in flight, or soon after, is answered from memory. Entries leave
/// after <c>maxAge</c> or beyond <c>capacity</c>; an older retry falls through to the store's
/// unique index, which answers it the same way (also when the original is still being committed:
/// the store then finds it in the same or an earlier batch).
/// </summary>
internal sealed class SendDeduplicator(int capacity, TimeSpan maxAge, TimeProvider time)
{
    private readonly Dictionary<(string Sender, string ClientMsgId), Task<SendAck>> _acks = [];
    private readonly Queue<((string, string) Key, long AddedAt)> _order = new();

    public int Count => _acks.Count;

    public bool TryGet(string senderId, string clientMsgId, out Task<SendAck> ack)
    {
        Evict();
        return _acks.TryGetValue((senderId, clientMsgId), out ack!);
    }

    public void Add(string senderId, string clientMsgId, Task<SendAck> ack)
    {
        if (_acks.TryAdd((senderId, clientMsgId), ack)) _order.Enqueue(((senderId, clientMsgId), time.GetTimestamp()));
        Evict();
    }

    /// <summary>Forgets a send that failed, so its retry is tried again rather than failed again.</summary>
    public void Remove(string senderId, string clientMsgId) => _acks.Remove((senderId, clientMsgId));

    private void Evict()
    {
        var now = time.GetTimestamp();
        while (_order.TryPeek(out var oldest) && (_order.Count > capacity || time.GetElapsedTime(oldest.AddedAt, now) > maxAge))
        {
            _order.Dequeue();
            _acks.Remove(oldest.Key);
        }
    }
}
