using Messenger.Grains.Conversations;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains;

/// <summary>
/// Receipts. Each member's pointers (received, read) move as the conversation learns of them: a delivery that
/// reached a live device, a member's report (a sync of their log, a read mark), a send (the sender has read
/// everything before it). At most once per <c>Messenger:ReceiptInterval</c>, the senders of the messages whose
/// counts changed get those counts as a receipts update in their own log (so every device of theirs sees them,
/// now or at its next sync); the pointers are saved at most once per <c>Messenger:MarkSaveInterval</c>.
/// </summary>
public sealed partial class ConversationGrain
{
    /// <summary>Most messages one receipts flush counts (the newest of a larger change).</summary>
    private const int ReceiptWindow = 500;

    private ReceiptTracker? _receipts;
    private ThrottledSave? _receiptFlush;
    private ThrottledSave? _receiptSave;
    private long _receiptChanges;
    // The counts each recent message's sender last got, so an unchanged count is not sent again.
    private readonly Dictionary<long, MessageReceipt> _sentCounts = [];

    private void AdvanceReceipts(string userId, long delivered, long read)
    {
        if (_receipts is null || !_receipts.Advance(userId, delivered, read)) return;
        _receiptChanges++;
        _receiptFlush ??= new ThrottledSave(_ => SendReceiptsAsync(), _options.ReceiptInterval, _time,
            (ex, _) => _logger.LogWarning(ex, "Conversation {ConversationId}: could not send receipts", Id));
        _receiptSave ??= new ThrottledSave(_ => SaveReceiptsAsync(), _options.MarkSaveInterval, _time,
            (ex, _) => _logger.LogWarning(ex, "Conversation {ConversationId}: could not save receipt pointers", Id));
        _receiptFlush.Request(_receiptChanges);
        _receiptSave.Request(_receiptChanges);
    }

    public Task ReportReceiptsAsync(string userId, long deliveredSeq, long readSeq)
    {
        if (_members?.Current(userId) is not null) AdvanceReceipts(userId, Math.Min(deliveredSeq, _lastSeq), Math.Min(readSeq, _lastSeq));
        return Task.CompletedTask;
    }

    public async Task<MessageReceiptDetail> GetReceiptsAsync(string callerId, long seq)
    {
        EnsureMember(callerId);
        if (seq < 1 || seq > _lastSeq) throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is outside 1..{_lastSeq}.");
        var page = await ReadRangeAsync(seq - 1, 1);
        var message = page[0];
        var delivered = new List<string>();
        var read = new List<string>();
        var of = 0;
        foreach (var m in _members!.All)
        {
            if (!m.Current || m.UserId == message.SenderId || m.JoinedSeq > seq) continue;
            of++;
            var (d, r) = _receipts!.Of(m.UserId);
            if (d >= seq) delivered.Add(m.UserId);
            if (r >= seq) read.Add(m.UserId);
        }
        delivered.Sort(StringComparer.Ordinal);
        read.Sort(StringComparer.Ordinal);
        return new MessageReceiptDetail(message.Seq, message.SenderId, of, delivered, read);
    }

    /// <summary>Sends each sender the counts of their messages that changed, as one receipts update per sender.</summary>
    private async Task SendReceiptsAsync()
    {
        if (_receipts!.TakeChanged() is not var (from, to)) return;
        from = Math.Max(from, to - ReceiptWindow + 1);
        var messages = await ReadRangeAsync(from - 1, (int)(to - from + 1));
        var bySender = new Dictionary<string, List<MessageReceipt>>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            if (message.Event is not null || _members!.Current(message.SenderId) is null || _deletedMembers.Contains(message.SenderId)) continue;
            var counts = _receipts.Count(message, _members.All);
            var last = _sentCounts.TryGetValue(message.Seq, out var sent) ? sent : new MessageReceipt(message.Seq, 0, 0, counts.Of);
            if (counts == last) continue; // a move that changed nothing the sender sees (their own pointer, say)
            _sentCounts[message.Seq] = counts;
            if (!bySender.TryGetValue(message.SenderId, out var list)) bySender[message.SenderId] = list = [];
            list.Add(counts);
        }
        if (_sentCounts.Count > 2 * ReceiptWindow) _sentCounts.Clear(); // older ones are only ever re-sent, never lost
        var sends = new List<Task>(bySender.Count);
        foreach (var (sender, receipts) in bySender) sends.Add(UserGrain(sender).AddReceiptsAsync(Id, receipts));
        await Task.WhenAll(sends);
    }

    private async Task SaveReceiptsAsync()
    {
        var unsaved = _receipts!.TakeUnsaved();
        if (unsaved.Count == 0) return;
        try
        {
            await _store.SaveReceiptsAsync(Id, unsaved);
        }
        catch
        {
            _receipts.Restore(unsaved);
            throw;
        }
    }

    /// <summary>Up to <paramref name="count"/> messages after <paramref name="afterSeq"/>, from memory when it has them.</summary>
    private async Task<IReadOnlyList<ChatMessage>> ReadRangeAsync(long afterSeq, int count) =>
        _recent.TryGetPage(afterSeq, HistoryDirection.After, count, _lastSeq, out var page)
            ? page
            : await _store.ReadMessagesAsync(Id, afterSeq, HistoryDirection.After, count);
}
