using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Delivery;

/// <summary>
/// The silo's outbox to the gateways: user grains hand it their new updates, and it sends each
/// gateway one <see cref="UpdateBatch"/> with everything queued for that gateway since its previous
/// batch, each message in it once however many of the gateway's users receive it. One batch per
/// gateway is in flight at a time and the next is sent when the gateway has taken it: Orleans does
/// not keep unawaited calls in order, and a user's updates must reach the gateway in <c>userSeq</c>
/// order. Nothing waits on a timer: a push that finds its gateway's outbox idle sends at once, and
/// whatever queues while a batch is in flight goes in the next, so batches grow with load. A
/// gateway that stops answering holds up only its own outbox, which is bounded. A gateway in this process
/// (<see cref="LocalGateways"/>) is called directly, from a thread-pool thread, never from the pushing grain's turn.
/// </summary>
public sealed class UpdatePusher(ILogger<UpdatePusher> logger, LocalGateways localGateways)
{
    /// <summary>Most updates queued for one gateway; past it new ones are dropped (its clients resync).</summary>
    public const int MaxQueuedPerGateway = 100_000;

    private readonly ConcurrentDictionary<IUpdateObserver, Outbox> _outboxes = new();

    /// <summary>
    /// Queues <paramref name="updates"/> of <paramref name="userId"/> for each of <paramref name="gateways"/>;
    /// <paramref name="received"/>, when given, moves to the last update's <c>userSeq</c> once a gateway has taken them.
    /// </summary>
    public void Push(IReadOnlyList<IUpdateObserver> gateways, string userId, IReadOnlyList<UserUpdate> updates, ReceivedMark? received = null)
    {
        if (updates.Count == 0) return;
        for (var i = 0; i < gateways.Count; i++) // (a foreach over the interface would box the list's enumerator, per push)
        {
            var gateway = gateways[i];
            if (!_outboxes.TryGetValue(gateway, out var outbox)) outbox = _outboxes.GetOrAdd(gateway, NewOutbox);
            outbox.Push(userId, updates, received);
        }
    }

    private Outbox NewOutbox(IUpdateObserver gateway)
    {
        var local = localGateways.Find(gateway);
        if (local is not null) logger.LogInformation("Pushes to the gateway in this process are handed to it by direct calls, not Orleans messages");
        return new Outbox(gateway, local, logger);
    }

    /// <summary>One gateway's queue and its sender: at most one batch in flight.</summary>
    /// <param name="gateway">The gateway's observer reference.</param>
    /// <param name="local">The gateway object itself when it lives in this process (called directly), else null.</param>
    /// <param name="logger">Where dropped pushes are reported.</param>
    private sealed class Outbox(IUpdateObserver gateway, IUpdateObserver? local, ILogger logger)
    {
        private static readonly Action<Outbox> StartSending = static outbox => _ = outbox.SendAsync();

        private readonly ConcurrentQueue<(string UserId, IReadOnlyList<UserUpdate> Updates, ReceivedMark? Received)> _queue = new();
        private int _queued;
        private int _sending;
        private long _dropped;

        public void Push(string userId, IReadOnlyList<UserUpdate> updates, ReceivedMark? received)
        {
            if (Interlocked.Increment(ref _queued) > MaxQueuedPerGateway)
            {
                Interlocked.Decrement(ref _queued);
                if (Interlocked.Increment(ref _dropped) == 1) logger.LogWarning("Gateway {Gateway} is not taking its pushes; dropping them (its clients will resync)", gateway);
                return;
            }
            _queue.Enqueue((userId, updates, received));
            if (Interlocked.Exchange(ref _sending, 1) != 0) return;
            // To a gateway elsewhere: started on the pushing grain's turn (the call only queues an Orleans message) and
            // carried on off any grain after it. To one here: the call does the gateway's work (framing, the sockets'
            // writes), which must not run on, or hold up, the grain's turn, so it starts on the thread pool.
            if (local is null) _ = SendAsync();
            else ThreadPool.UnsafeQueueUserWorkItem(StartSending, this, preferLocal: false);
        }

        private async Task SendAsync()
        {
            while (true)
            {
                BatchBuilder? batch = null;
                List<(ReceivedMark, string, long)>? marks = null;
                while (_queue.TryDequeue(out var item))
                {
                    Interlocked.Decrement(ref _queued);
                    (batch ??= new BatchBuilder()).Add(item.UserId, item.Updates);
                    if (item.Received is { } mark) (marks ??= []).Add((mark, item.UserId, item.Updates[^1].UserSeq));
                }
                if (batch is null)
                {
                    // A full fence (not a plain store): the queue must be read after the flag is cleared, or a push that
                    // queued meanwhile and saw the flag still set would be left for the next push to send.
                    Interlocked.Exchange(ref _sending, 0);
                    // A push that came after the drain but saw the flag still set is ours to send.
                    if (_queue.IsEmpty || Interlocked.Exchange(ref _sending, 1) != 0) return;
                    continue;
                }
                try
                {
                    var unreceived = await (local ?? gateway).OnUpdatesAsync(batch.Build(askReceived: marks is not null)).ConfigureAwait(false);
                    _dropped = 0;
                    if (marks is not null)
                    {
                        foreach (var (mark, userId, userSeq) in marks)
                        {
                            if (!unreceived.Contains(userId)) mark.Advance(userSeq);
                        }
                    }
                }
                catch (Exception ex) when (local is null)
                {
                    // Pushes are best effort: a client that misses one sees the gap and syncs.
                    logger.LogDebug(ex, "Pushing a batch to gateway {Gateway} failed", gateway);
                }
                catch (Exception ex)
                {
                    // Not a network failure: the gateway in this process failed on the batch (its clients sync on the gap).
                    logger.LogWarning(ex, "The gateway in this process failed on a batch of pushes");
                }
            }
        }
    }

    /// <summary>One gateway's batch: messages by <c>(conversationId, seq)</c> once, updates in arrival order.</summary>
    internal sealed class BatchBuilder
    {
        private const int IndexFrom = 8;

        private readonly List<ChatMessage> _messages = new(2);
        private List<PushedUpdate>? _updates; // sized by the first user's updates: most batches carry one user's one update
        private Dictionary<(string, long), int>? _index; // only once a batch carries many messages

        public void Add(string userId, IReadOnlyList<UserUpdate> updates)
        {
            _updates ??= new List<PushedUpdate>(updates.Count);
            for (var i = 0; i < updates.Count; i++)
            {
                var update = updates[i];
                var index = update.Message is { } message ? IndexOf(message) : -1;
                _updates.Add(new PushedUpdate(userId, update.UserSeq, update.Kind, update.ConversationId, update.Seq, index, update.Receipts));
            }
        }

        private int IndexOf(ChatMessage message)
        {
            if (_index is null)
            {
                for (var i = 0; i < _messages.Count; i++)
                {
                    var m = _messages[i];
                    if (ReferenceEquals(m, message) || (m.Seq == message.Seq && m.ConversationId == message.ConversationId)) return i;
                }
                _messages.Add(message);
                if (_messages.Count == IndexFrom)
                {
                    _index = new Dictionary<(string, long), int>(2 * IndexFrom);
                    for (var i = 0; i < _messages.Count; i++) _index[(_messages[i].ConversationId, _messages[i].Seq)] = i;
                }
                return _messages.Count - 1;
            }
            var key = (message.ConversationId, message.Seq);
            if (!_index.TryGetValue(key, out var index))
            {
                index = _messages.Count;
                _messages.Add(message);
                _index[key] = index;
            }
            return index;
        }

        public UpdateBatch Build(bool askReceived) => new(_messages, (IReadOnlyList<PushedUpdate>?)_updates ?? [], askReceived);
    }
}
