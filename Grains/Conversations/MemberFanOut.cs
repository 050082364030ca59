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
/// into its next batch. A failing member is retried with backoff and delays nobody else. Progress
/// is kept per member in memory; <see cref="Mark"/>, the lowest, is what the conversation saves, and
/// after a crash fan-out resumes from the saved mark (members skip what they already hold).
/// For use inside one grain activation.
/// </summary>
internal sealed class MemberFanOut
{
    /// <summary>Most messages per delivery call.</summary>
    public const int MaxBatch = 256;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    private readonly Member[] _members;
    private readonly Dictionary<string, Member> _byId;
    private readonly IFanOutTarget _target;
    private readonly TimeProvider _time;
    private long _lastSeq;

    /// <param name="memberIds">The members.</param>
    /// <param name="fannedOutSeq">Every member is known to hold the log up to here.</param>
    /// <param name="target">The conversation.</param>
    /// <param name="time">Clock for the retry backoff.</param>
    public MemberFanOut(IReadOnlyList<string> memberIds, long fannedOutSeq, IFanOutTarget target, TimeProvider time)
    {
        _members = new Member[memberIds.Count];
        _byId = new Dictionary<string, Member>(memberIds.Count, StringComparer.Ordinal);
        for (var i = 0; i < _members.Length; i++) _byId[memberIds[i]] = _members[i] = new Member(memberIds[i], fannedOutSeq);
        _target = target;
        _time = time;
        _lastSeq = fannedOutSeq;
        Mark = fannedOutSeq;
        _atMark = _members.Length;
    }

    /// <summary>
    /// Every member holds the log up to here. Kept up as members advance: recomputed over all
    /// members only when the last member at the old mark moves on, so O(1) per delivery amortised.
    /// </summary>
    public long Mark { get; private set; }

    private int _atMark;

    /// <summary>A member moved from <paramref name="from"/>; true when that moved the mark.</summary>
    private bool MoveMark(long from)
    {
        if (from != Mark || --_atMark > 0) return false;
        var mark = long.MaxValue;
        foreach (var member in _members)
        {
            if (member.Delivered < mark) { mark = member.Delivered; _atMark = 1; }
            else if (member.Delivered == mark) _atMark++;
        }
        Mark = mark;
        return true;
    }

    /// <summary>How far <paramref name="userId"/>'s log is known to reach (-1 for a non-member).</summary>
    public long DeliveredTo(string userId) => _byId.TryGetValue(userId, out var member) ? member.Delivered : -1;

    /// <summary>The log now ends at <paramref name="lastSeq"/>: start every idle member that is behind.</summary>
    public void Advance(long lastSeq)
    {
        if (lastSeq > _lastSeq) _lastSeq = lastSeq;
        foreach (var member in _members)
        {
            if (!member.InFlight && member.Delivered < _lastSeq) _ = PumpAsync(member);
        }
    }

    private async Task PumpAsync(Member member)
    {
        member.InFlight = true;
        try
        {
            var retry = FirstRetry;
            while (member.Delivered < _lastSeq)
            {
                IReadOnlyList<ChatMessage> batch;
                DeliveryReceipt receipt;
                try
                {
                    batch = await _target.ReadAfterAsync(member.Delivered, MaxBatch);
                    if (batch.Count == 0) return; // nothing committed past it after all
                    receipt = await _target.DeliverAsync(member.UserId, batch);
                }
                catch (Exception ex)
                {
                    _target.OnDeliveryFailed(member.UserId, ex, retry);
                    await Task.Delay(retry, _time);
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
                    continue;
                }
                retry = FirstRetry;
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

    private sealed class Member(string userId, long delivered)
    {
        public string UserId { get; } = userId;
        public long Delivered { get; set; } = delivered;
        public bool InFlight { get; set; }
    }
}
