using Messenger.Grains.Storage;

namespace Messenger.Grains.Conversations;

/// <summary>A send waiting for its ack.</summary>
internal sealed class PendingSend(NewMessage message)
{
    public NewMessage Message { get; } = message;
    public TaskCompletionSource<SendAck> Ack { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>An ack that can be given now that the sender's own update log holds its message.</summary>
/// <param name="Send">The send to answer.</param>
/// <param name="Message">The committed message (the original for a duplicate).</param>
/// <param name="UserSeq">Its <c>userSeq</c> in the sender's log, or 0 when it must be looked up.</param>
/// <param name="Duplicate">The send was a retry of an earlier one.</param>
internal readonly record struct ReadyAck(PendingSend Send, ChatMessage Message, long UserSeq, bool Duplicate);

/// <summary>
/// Committed sends whose ack waits for one thing only: the sender's own update log holding the
/// message (so the ack carries its <c>userSeq</c> and the sender's other devices can sync it).
/// Other members' deliveries are never waited for.
/// </summary>
internal sealed class PendingAcks
{
    private readonly Dictionary<long, PendingSend> _new = [];
    private readonly List<(ChatMessage Original, PendingSend Send)> _duplicates = [];

    public int Count => _new.Count + _duplicates.Count;

    /// <summary>A new message, committed and waiting for its sender's delivery.</summary>
    public void AwaitNew(ChatMessage message, PendingSend send) => _new[message.Seq] = send;

    /// <summary>
    /// A retry of <paramref name="original"/>: answered into <paramref name="ready"/> at once when its
    /// sender's log already reaches <paramref name="senderDeliveredTo"/> ≥ its seq, else when it does.
    /// </summary>
    public void AwaitDuplicate(ChatMessage original, PendingSend send, long senderDeliveredTo, List<ReadyAck> ready)
    {
        if (original.Seq <= senderDeliveredTo) ready.Add(new ReadyAck(send, original, 0, Duplicate: true));
        else _duplicates.Add((original, send));
    }

    /// <summary>
    /// <paramref name="userId"/>'s log now holds everything up to the last of <paramref name="batch"/>,
    /// which it took with <paramref name="receipt"/>. Moves every ack this settles into <paramref name="ready"/>.
    /// </summary>
    public void TakeSettled(string userId, IReadOnlyList<ChatMessage> batch, DeliveryReceipt receipt, List<ReadyAck> ready)
    {
        for (var i = 0; _new.Count > 0 && i < batch.Count; i++)
        {
            var message = batch[i];
            if (message.SenderId == userId && _new.Remove(message.Seq, out var send))
            {
                ready.Add(new ReadyAck(send, message, receipt.UserSeqs[i], Duplicate: false));
            }
        }
        var deliveredTo = batch[^1].Seq;
        for (var i = _duplicates.Count - 1; i >= 0; i--)
        {
            var (original, send) = _duplicates[i];
            if (original.SenderId != userId || original.Seq > deliveredTo) continue;
            _duplicates.RemoveAt(i);
            ready.Add(new ReadyAck(send, original, 0, Duplicate: true));
        }
    }
}
