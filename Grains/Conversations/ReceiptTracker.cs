using Messenger.Grains.Storage;

namespace Messenger.Grains.Conversations;

/// <summary>
/// Each member's receipt pointers in a conversation: how far a device of theirs has received the log, and
/// their read mark (both only move forward; read implies received). Remembers which part of the log's counts
/// changed since they were last sent, and which pointers since they were last saved. For use inside one grain activation.
/// </summary>
internal sealed class ReceiptTracker
{
    private readonly Dictionary<string, (long Delivered, long Read)> _pointers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemberReceipts> _unsaved = new(StringComparer.Ordinal);
    private long _changedFrom = long.MaxValue;
    private long _changedTo;

    public ReceiptTracker(IEnumerable<MemberRecord> members)
    {
        foreach (var m in members)
        {
            var floor = m.JoinedSeq - 1;
            _pointers[m.UserId] = (Math.Max(m.DeliveredSeq, floor), Math.Max(m.ReadSeq, floor));
        }
    }

    /// <summary>A member joined at <paramref name="seq"/>: nothing before it was ever for them.</summary>
    public void Joined(string userId, long seq)
    {
        var (d, r) = _pointers.GetValueOrDefault(userId);
        _pointers[userId] = (Math.Max(d, seq - 1), Math.Max(r, seq - 1));
    }

    /// <summary>Moves a member's pointers forward; true when either moved.</summary>
    public bool Advance(string userId, long delivered, long read)
    {
        delivered = Math.Max(delivered, read);
        var (d0, r0) = _pointers.GetValueOrDefault(userId);
        var (d1, r1) = (Math.Max(d0, delivered), Math.Max(r0, read));
        if (d1 == d0 && r1 == r0) return false;
        _pointers[userId] = (d1, r1);
        _unsaved[userId] = new MemberReceipts(userId, d1, r1);
        _changedFrom = Math.Min(_changedFrom, Math.Min(d1 > d0 ? d0 + 1 : long.MaxValue, r1 > r0 ? r0 + 1 : long.MaxValue));
        _changedTo = Math.Max(_changedTo, d1);
        return true;
    }

    public (long Delivered, long Read) Of(string userId) => _pointers.GetValueOrDefault(userId);

    /// <summary>The counts of the messages from <paramref name="from"/> to <paramref name="to"/> may have changed (or must be sent again).</summary>
    public void MarkChanged(long from, long to)
    {
        _changedFrom = Math.Min(_changedFrom, from);
        _changedTo = Math.Max(_changedTo, to);
    }

    /// <summary>The seqs whose counts may have changed since <see cref="TakeChanged"/> last took them, or null; takes nothing.</summary>
    public (long From, long To)? Pending => _changedTo == 0 ? null : (_changedFrom, _changedTo);

    /// <summary>The seqs whose counts may have changed since the last call, or null.</summary>
    public (long From, long To)? TakeChanged()
    {
        var changed = Pending;
        (_changedFrom, _changedTo) = (long.MaxValue, 0);
        return changed;
    }

    /// <summary>The pointers moved since the last call, to save.</summary>
    public List<MemberReceipts> TakeUnsaved()
    {
        var unsaved = new List<MemberReceipts>(_unsaved.Values);
        _unsaved.Clear();
        return unsaved;
    }

    /// <summary>Pointers whose save failed: kept for the next save (newer values win).</summary>
    public void Restore(List<MemberReceipts> unsaved)
    {
        foreach (var r in unsaved) _unsaved.TryAdd(r.UserId, r);
    }

    /// <summary>
    /// The counts of <paramref name="message"/>: among the current members other than its sender who had joined by
    /// then, how many have received it and how many have read it.
    /// </summary>
    public MessageReceipt Count(ChatMessage message, IReadOnlyList<MemberRecord> members)
    {
        int of = 0, delivered = 0, read = 0;
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            if (!IsFor(m, message)) continue;
            of++;
            var (d, r) = _pointers.GetValueOrDefault(m.UserId);
            if (d >= message.Seq) delivered++;
            if (r >= message.Seq) read++;
        }
        return new MessageReceipt(message.Seq, delivered, read, of);
    }

    /// <summary>Who of the members <paramref name="message"/> was for has received it and who has read it, each ascending.</summary>
    public MessageReceiptDetail Detail(ChatMessage message, IReadOnlyList<MemberRecord> members)
    {
        var (of, delivered, read) = (0, new List<string>(), new List<string>());
        foreach (var m in members)
        {
            if (!IsFor(m, message)) continue;
            of++;
            var (d, r) = _pointers.GetValueOrDefault(m.UserId);
            if (d >= message.Seq) delivered.Add(m.UserId);
            if (r >= message.Seq) read.Add(m.UserId);
        }
        delivered.Sort(StringComparer.Ordinal);
        read.Sort(StringComparer.Ordinal);
        return new MessageReceiptDetail(message.Seq, message.SenderId, of, delivered, read);
    }

    // The members a message was for: the current ones who had joined by then, its sender left out.
    private static bool IsFor(MemberRecord member, ChatMessage message) =>
        member.Current && member.UserId != message.SenderId && member.JoinedSeq <= message.Seq;
}
