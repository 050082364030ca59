using System.Collections.Concurrent;

namespace Messenger.Grains.Delivery;

/// <summary>
/// The silo's outbox to the gateways: user grains hand it their new updates, and it sends each
/// gateway one <see cref="UpdateBatch"/> with everything queued for that gateway since the last
/// send, each message in it once however many of the gateway's users receive it. Nothing waits on
/// a timer: the first update starts a flush, and whatever arrives while a flush runs goes in the
/// next, so batches grow with load. One flush runs at a time and each user's updates are queued in
/// order, so a gateway receives a user's updates in <c>userSeq</c> order.
/// </summary>
public sealed class UpdatePusher
{
    private readonly ConcurrentQueue<Item> _queue = new();
    private int _flushing;

    /// <summary>Queues <paramref name="updates"/> of <paramref name="userId"/> for each of <paramref name="gateways"/>.</summary>
    public void Push(IReadOnlyList<IUpdateObserver> gateways, string userId, IReadOnlyList<UserUpdate> updates)
    {
        if (gateways.Count == 0 || updates.Count == 0) return;
        foreach (var gateway in gateways) _queue.Enqueue(new Item(gateway, userId, updates));
        if (Interlocked.Exchange(ref _flushing, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static pusher => pusher.Flush(), this, preferLocal: false);
        }
    }

    private void Flush()
    {
        var batches = new Dictionary<IUpdateObserver, BatchBuilder>();
        while (true)
        {
            while (_queue.TryDequeue(out var item))
            {
                if (!batches.TryGetValue(item.Gateway, out var builder)) batches[item.Gateway] = builder = new BatchBuilder();
                builder.Add(item.UserId, item.Updates);
            }
            foreach (var (gateway, builder) in batches) gateway.OnUpdatesAsync(builder.Build()).Ignore();
            batches.Clear();
            Volatile.Write(ref _flushing, 0);
            // A push that came after the drain but saw the flag still set is ours to send.
            if (_queue.IsEmpty || Interlocked.Exchange(ref _flushing, 1) != 0) return;
        }
    }

    private readonly record struct Item(IUpdateObserver Gateway, string UserId, IReadOnlyList<UserUpdate> Updates);

    /// <summary>One gateway's batch: messages by <c>(conversationId, seq)</c> once, updates in arrival order.</summary>
    internal sealed class BatchBuilder
    {
        private readonly List<ChatMessage> _messages = [];
        private readonly Dictionary<(string, long), int> _index = [];
        private readonly List<PushedUpdate> _updates = [];

        public void Add(string userId, IReadOnlyList<UserUpdate> updates)
        {
            foreach (var update in updates)
            {
                var index = -1;
                if (update.Message is { } message)
                {
                    var key = (message.ConversationId, message.Seq);
                    if (!_index.TryGetValue(key, out index))
                    {
                        index = _messages.Count;
                        _messages.Add(message);
                        _index[key] = index;
                    }
                }
                _updates.Add(new PushedUpdate(userId, update.UserSeq, update.Kind, update.ConversationId, update.Seq, index));
            }
        }

        public UpdateBatch Build() => new(_messages, _updates);
    }
}
