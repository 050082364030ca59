using Messenger.Grains.Conversations;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains;

/// <summary>
/// Receipts. Each member's pointers (received, read) move as the conversation learns of them: a delivery that
/// reached a live device, a member's report (a sync of their log, a read mark), a send (the sender has read
/// everything before it). The senders of the messages whose counts changed get those counts as a receipts update
/// in their own log (so every device of theirs sees them, now or at its next sync): with the next delivery to
/// them when one starts while the change is pending (the same append and push as its messages), else from a
/// flush at most once per <c>Messenger:ReceiptInterval</c>. The pointers are saved at most once per
/// <c>Messenger:MarkSaveInterval</c>.
/// </summary>
public sealed partial class ConversationGrain
{
    /// <summary>Most messages one receipts flush counts (the newest of a larger change).</summary>
    private const int ReceiptWindow = 500;

    /// <summary>Most messages of a pending change a delivery looks through for counts it can carry (a larger change waits for the flush).</summary>
    private const int CarryWindow = 64;

    private ReceiptCarriers? _carriers;

    private ReceiptTracker? _receipts;
    private ThrottledSave? _receiptFlush;
    private ThrottledSave? _receiptSave;
    private long _receiptChanges;
    // The counts each recent message's sender last got, so an unchanged count is not sent again.
    private readonly Dictionary<long, MessageReceipt> _sentCounts = [];

    private void AdvanceReceipts(string userId, long delivered, long read)
    {
        if (MoveReceipts(userId, delivered, read)) RequestReceiptFlush();
    }

    /// <summary>
    /// Moves a member's pointers (saved later); true when they moved. The senders hear of it from the next flush,
    /// which the caller requests (<see cref="RequestReceiptFlush"/>) once it has started the deliveries that can carry it.
    /// </summary>
    private bool MoveReceipts(string userId, long delivered, long read)
    {
        if (_receipts is null || !_receipts.Advance(userId, delivered, read)) return false;
        _receiptChanges++;
        _receiptSave ??= Made(new ThrottledSave(_ => SaveReceiptsAsync(), _options.MarkSaveInterval, _time,
            (ex, _) => _logger.LogWarning(ex, "Conversation {ConversationId}: could not save receipt pointers", Id)));
        _receiptSave.Request(_receiptChanges);
        return true;
    }

    private void RequestReceiptFlush()
    {
        _receiptFlush ??= Made(new ThrottledSave(_ => SendReceiptsAsync(), _options.ReceiptInterval, _time,
            (ex, _) => _logger.LogWarning(ex, "Conversation {ConversationId}: could not send receipts", Id)));
        _receiptFlush.Request(_receiptChanges);
    }

    /// <summary>A saver made on first use: stopped at once if the activation has already made its last saves.</summary>
    private ThrottledSave Made(ThrottledSave save)
    {
        if (_closed) save.Stop();
        return save;
    }

    /// <summary>The counts of the messages from <paramref name="from"/> to <paramref name="to"/> may have changed (a member left).</summary>
    private void ChangedReceipts(long from, long to)
    {
        if (_receipts is null) return;
        _receipts.MarkChanged(from, to);
        _receiptChanges++;
        _receiptFlush?.Request(_receiptChanges);
    }

    public Task ReportReceiptsAsync(string userId, long deliveredSeq, long readSeq)
    {
        if (_members?.Current(userId) is not null) AdvanceReceipts(userId, Math.Min(deliveredSeq, _lastSeq), Math.Min(readSeq, _lastSeq));
        return Task.CompletedTask;
    }

    public async Task<MessageReceiptDetail> GetReceiptsAsync(string callerId, long seq)
    {
        var joinedSeq = EnsureMember(callerId).JoinedSeq;
        if (seq < Math.Max(1, joinedSeq) || seq > _lastSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is outside {Math.Max(1, joinedSeq)}..{_lastSeq} (the messages you can see).");
        }
        var page = await ReadRangeAsync(seq - 1, 1);
        var message = page[0];
        if (message.Event is not null) throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is a membership event: events have no receipts.");
        return _receipts!.Detail(message, _members!.All);
    }

    private ReceiptCarriers Carriers => _carriers ??= new ReceiptCarriers(_options.ReceiptInterval, _time);

    /// <summary>The changed counts of <paramref name="userId"/>'s own messages that a delivery to them can carry, or null.</summary>
    private List<MessageReceipt>? ReceiptsOwedTo(string userId)
    {
        if (_receipts?.Pending is not var (from, to) || to - from >= CarryWindow || !Carriers.Due(userId) || _members!.Current(userId) is null)
        {
            return null;
        }
        List<MessageReceipt>? owed = null;
        for (var seq = from; seq <= to; seq++)
        {
            if (!_recent.TryGet(seq, out var message)) return null; // the flush reads them
            if (message.SenderId != userId || message.Event is not null) continue;
            var counts = _receipts.Count(message, _members.All);
            if (Unsent(counts)) (owed ??= []).Add(counts);
        }
        return owed;
    }

    /// <summary>Whether <paramref name="counts"/> differ from what the sender last got of that message (nothing counts as zero).</summary>
    private bool Unsent(MessageReceipt counts) =>
        counts != (_sentCounts.TryGetValue(counts.Seq, out var sent) ? sent : new MessageReceipt(counts.Seq, 0, 0, counts.Of));

    private void EndCarrier(string userId, bool arrived)
    {
        // A flush left this sender out meanwhile (and kept the range owed): it runs again, and sends what the carrier did not.
        if (Carriers.End(userId, arrived)) RequestReceiptFlushAgain();
    }

    /// <summary>A flush left counts owed (kept in the tracker's pending range): another run comes, an interval after the last.</summary>
    private void RequestReceiptFlushAgain()
    {
        _receiptChanges++;
        RequestReceiptFlush();
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
            if (!Unsent(counts)) continue; // a move that changed nothing the sender sees (their own pointer, say)
            if (!bySender.TryGetValue(message.SenderId, out var list)) bySender[message.SenderId] = list = [];
            list.Add(counts);
        }
        if (_sentCounts.Count > 2 * ReceiptWindow) _sentCounts.Clear(); // older ones are only ever re-sent, never lost
        var senders = new List<(string Sender, List<MessageReceipt> Receipts, Task Sent)>(bySender.Count);
        var (leftOut, notDue, backingOff) = (false, false, false);
        foreach (var (sender, receipts) in bySender)
        {
            // A delivery on its way to them carries counts taken earlier: these go after it, when it ends.
            if (Carriers.LeaveOut(sender))
            {
                leftOut = true;
                continue;
            }
            if (!Carriers.Due(sender))
            {
                // Their last update failed: a run when their backoff ends (or a change before it) takes these.
                if (Carriers.BackingOff(sender)) backingOff = true;
                // They got an update within the interval (carried by a delivery): the next delivery or run takes these.
                else notDue = true;
                continue;
            }
            Carriers.Begin(sender);
            senders.Add((sender, receipts, UserGrain(sender).AddReceiptsAsync(Id, receipts)));
        }
        if (leftOut || notDue || backingOff) _receipts.MarkChanged(from, to);
        if (notDue) RequestReceiptFlushAgain();
        if (backingOff) RequestReceiptFlushAfterBackoff();
        Exception? failed = null;
        foreach (var (sender, receipts, sent) in senders)
        {
            var arrived = false;
            try
            {
                await sent;
                foreach (var r in receipts) _sentCounts[r.Seq] = r; // only what a sender has got counts as sent
                arrived = true;
            }
            catch (Exception ex)
            {
                failed ??= ex;
            }
            finally
            {
                EndCarrier(sender, arrived);
            }
        }
        if (failed is not null)
        {
            // The range is owed again (what failed was not recorded as sent). The senders it failed for back off
            // (ReceiptCarriers); a run comes when the first backoff ends, and sends them theirs.
            _receipts.MarkChanged(from, to);
            RequestReceiptFlushAfterBackoff();
            _logger.LogWarning(failed, "Conversation {ConversationId}: receipts could not reach some senders; tried again after a backoff", Id);
        }
    }

    // Asks for a flush run when the first sender backing off is due again (one timer, re-armed; collected with the activation).
    private IGrainTimer? _receiptRetry;

    /// <summary>
    /// A flush run when the first sender now backing off is due again, not before: a flush that has nothing else to send
    /// does not run every interval meanwhile.
    /// </summary>
    private void RequestReceiptFlushAfterBackoff()
    {
        if (Carriers.NextBackoffEnd() is not { } wait) return;
        _receiptRetry ??= this.RegisterGrainTimer(_ =>
        {
            RequestReceiptFlushAgain();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true });
        _receiptRetry.Change(wait + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
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
