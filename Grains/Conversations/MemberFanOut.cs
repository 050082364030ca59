using Messenger.Grains.Support;

namespace Messenger.Grains.Conversations;

/// <summary>What <see cref="MemberFanOut"/> needs from its conversation.</summary>
internal interface IFanOutTarget
{
    /// <summary>Up to <paramref name="limit"/> committed messages after <paramref name="afterSeq"/>, ascending.</summary>
    ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(long afterSeq, int limit);

    /// <summary>Appends the messages to the member's update log (idempotent per seq) and pushes them.</summary>
    Task<DeliveryReceipt> DeliverAsync(string userId, IReadOnlyList<ChatMessage> messages);

    /// <summary>The member's log now holds every message up to the batch's last; <paramref name="markMoved"/> when <see cref="MemberFanOut.Mark"/> moved.</summary>
    void OnDelivered(string userId, IReadOnlyList<ChatMessage> messages, DeliveryReceipt receipt, bool markMoved);

    /// <summary>A delivery failed; it is tried again after <paramref name="retryIn"/>.</summary>
    void OnDeliveryFailed(string userId, Exception error, TimeSpan retryIn);
}

/// <summary>
/// Fans a conversation's log out to its members, each member on its own: a member gets the
/// messages in seq order with at most one batch in flight, everything committed meanwhile going
/// into its next batch. A failing member is retried with backoff and delays nobody else. Each member
/// gets the log from the seq they joined at up to the seq they left at, if they left (that event
/// included). Progress is kept per member in memory; <see cref="Mark"/>, the lowest of the members still
/// owed something, is what the conversation saves, and after a crash fan-out resumes from the saved
/// mark (members skip what they already hold). For use inside one grain activation.
/// </summary>
internal sealed class MemberFanOut
{
    /// <summary>Most messages per delivery call.</summary>
    public const int MaxBatch = 256;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    private readonly List<Member> _members;
    private readonly Dictionary<string, Member> _byId;
    private readonly IFanOutTarget _target;
    private readonly TimeProvider _time;
    private long _lastSeq;
    private int _atMark;

    /// <param name="memberIds">The members, each a member from seq 1 (a direct conversation).</param>
    /// <param name="fannedOutSeq">Every member is known to hold the log up to here.</param>
    /// <param name="target">The conversation.</param>
    /// <param name="time">Clock for the retry backoff.</param>
    public MemberFanOut(IReadOnlyList<string> memberIds, long fannedOutSeq, IFanOutTarget target, TimeProvider time)
        : this(memberIds.Select(id => new MemberRecord(id, MemberRole.Member, 1, 0, false)), fannedOutSeq, target, time)
    {
    }

    /// <param name="members">Every member the conversation has had, with the seqs they joined and left at.</param>
    /// <param name="fannedOutSeq">Every member is known to hold the log up to here (or up to where they left).</param>
    /// <param name="target">The conversation.</param>
    /// <param name="time">Clock for the retry backoff.</param>
    public MemberFanOut(IEnumerable<MemberRecord> members, long fannedOutSeq, IFanOutTarget target, TimeProvider time)
    {
        _members = [];
        _byId = new Dictionary<string, Member>(StringComparer.Ordinal);
        _target = target;
        _time = time;
        _lastSeq = fannedOutSeq;
        foreach (var record in members)
        {
            var member = new Member(record.UserId, Math.Max(fannedOutSeq, record.JoinedSeq - 1), record.LeftSeq == 0 ? long.MaxValue : record.LeftSeq);
            _members.Add(member);
            _byId[member.UserId] = member;
        }
        RecomputeMark();
    }

    /// <summary>
    /// Every member holds the log up to here (as far as they are owed it). Kept up as members advance:
    /// recomputed over all members only when the last member at the old mark moves on, so O(1) per
    /// delivery amortised.
    /// </summary>
    public long Mark { get; private set; }

    /// <summary>A member moved from <paramref name="from"/>; true when that moved the mark.</summary>
    private bool MoveMark(long from)
    {
        if (from != Mark || --_atMark > 0) return false;
        RecomputeMark();
        return true;
    }

    private void RecomputeMark()
    {
        var mark = long.MaxValue;
        _atMark = 0;
        foreach (var member in _members)
        {
            if (member.Finished) continue;
            if (member.Delivered < mark) { mark = member.Delivered; _atMark = 1; }
            else if (member.Delivered == mark) _atMark++;
        }
        Mark = mark == long.MaxValue ? _lastSeq : mark;
    }

    /// <summary>How far <paramref name="userId"/>'s log is known to reach (-1 for someone never a member).</summary>
    public long DeliveredTo(string userId) => _byId.TryGetValue(userId, out var member) ? member.Delivered : -1;

    /// <summary>
    /// <paramref name="userId"/> joined at <paramref name="seq"/> (committed): they get the log from there. A former
    /// member must have had everything up to where they left (the caller checks <see cref="DeliveredTo"/>).
    /// </summary>
    public void Join(string userId, long seq)
    {
        if (!_byId.TryGetValue(userId, out var member))
        {
            _members.Add(member = new Member(userId, seq - 1, long.MaxValue));
            _byId[userId] = member;
            // A joiner starts at the log's end, never below the mark: only a tie counts (no O(members) recount per joiner).
            if (member.Delivered == Mark) _atMark++;
            else if (member.Delivered < Mark || _atMark == 0) RecomputeMark();
            return;
        }
        member.Delivered = Math.Max(member.Delivered, seq - 1);
        member.Until = long.MaxValue;
        RecomputeMark();
    }

    /// <summary><paramref name="userId"/> left at <paramref name="seq"/> (committed): they get the log up to it and nothing after.</summary>
    public void Leave(string userId, long seq)
    {
        if (_byId.TryGetValue(userId, out var member)) member.Until = seq;
        RecomputeMark();
    }

    /// <summary>
    /// The log now ends at <paramref name="lastSeq"/>: start every idle member that is behind, <paramref name="first"/>
    /// (the senders, whose acks wait for their own delivery) before the others.
    /// </summary>
    public void Advance(long lastSeq, IReadOnlyList<string>? first = null)
    {
        if (lastSeq > _lastSeq) _lastSeq = lastSeq;
        if (first is not null)
        {
            foreach (var userId in first)
            {
                if (_byId.TryGetValue(userId, out var sender) && !sender.InFlight && sender.Delivered < Math.Min(_lastSeq, sender.Until)) _ = PumpAsync(sender);
            }
        }
        foreach (var member in _members)
        {
            if (!member.InFlight && member.Delivered < Math.Min(_lastSeq, member.Until)) _ = PumpAsync(member);
        }
        if (_atMark == 0) RecomputeMark();
    }

    private async Task PumpAsync(Member member)
    {
        member.InFlight = true;
        try
        {
            var failures = 0;
            while (member.Delivered < Math.Min(_lastSeq, member.Until))
            {
                IReadOnlyList<ChatMessage> batch;
                DeliveryReceipt receipt;
                try
                {
                    // Cut at what this fan-out has been told of too: a read from the store may already see a batch whose
                    // membership events (a removal) have not been applied here yet.
                    batch = Cut(await _target.ReadAfterAsync(member.Delivered, MaxBatch), Math.Min(member.Until, _lastSeq));
                    if (batch.Count == 0) return; // nothing committed past it after all
                    receipt = await _target.DeliverAsync(member.UserId, batch);
                }
                catch (Exception ex)
                {
                    var retry = RetryBackoff.Doubling(FirstRetry, LongestRetry, ++failures);
                    _target.OnDeliveryFailed(member.UserId, ex, retry);
                    await Task.Delay(retry, _time);
                    continue;
                }
                failures = 0;
                var from = member.Delivered;
                member.Delivered = batch[^1].Seq;
                _target.OnDelivered(member.UserId, batch, receipt, MoveMark(from));
            }
        }
        finally
        {
            member.InFlight = false;
        }
    }

    /// <summary>The batch without the messages after <paramref name="until"/> (a member who left gets nothing later).</summary>
    private static IReadOnlyList<ChatMessage> Cut(IReadOnlyList<ChatMessage> batch, long until)
    {
        if (batch.Count == 0 || batch[^1].Seq <= until) return batch;
        var kept = new List<ChatMessage>(batch.Count);
        foreach (var message in batch) if (message.Seq <= until) kept.Add(message);
        return kept;
    }

    private sealed class Member(string userId, long delivered, long until)
    {
        public string UserId { get; } = userId;
        public long Delivered { get; set; } = delivered;
        /// <summary>The last seq the member is owed: where they left, or <see cref="long.MaxValue"/>.</summary>
        public long Until { get; set; } = until;
        public bool InFlight { get; set; }
        public bool Finished => Delivered >= Until;
    }
}
