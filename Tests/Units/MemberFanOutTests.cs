using Messenger.Grains;
using Messenger.Tests.Support;
using Messenger.Grains.Conversations;
using Microsoft.Extensions.Time.Testing;

namespace Messenger.Tests.Units;

/// <summary>Per-member fan-out: order per member, batching, and a failing member retried on its own.</summary>
public sealed class MemberFanOutTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    [Fact]
    public Task Advance_DeliversEveryMessageToEveryMemberInOrder_AndMovesTheMark() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a", "b", "c"]);
        var fanOut = new MemberFanOut(["a", "b", "c"], 0, target, new FakeTimeProvider(T0));

        target.Commit(3);
        fanOut.Advance(3);
        foreach (var member in new[] { "a", "b", "c" }) await target.WaitForDelivered(member, 3);

        foreach (var member in new[] { "a", "b", "c" })
        {
            Assert.Equal([1L, 2L, 3L], target.DeliveredTo(member));
            Assert.Equal(3, fanOut.DeliveredTo(member));
        }
        Assert.Equal(3, fanOut.Mark);
        Assert.Equal(-1, fanOut.DeliveredTo("stranger"));
    });

    [Fact]
    public Task CommitsDuringADelivery_GoTogetherInTheMembersNextBatch() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a"]);
        var fanOut = new MemberFanOut(["a"], 0, target, new FakeTimeProvider(T0));
        var held = target.HoldNext("a");

        target.Commit(1);
        fanOut.Advance(1);
        await target.Reached("a");
        target.Commit(4);
        fanOut.Advance(5);
        fanOut.Advance(5); // a member already in flight is not started twice
        held.SetResult();
        await target.WaitForDelivered("a", 5);

        Assert.Equal([[1L], [2L, 3L, 4L, 5L]], target.BatchesTo("a"));
    });

    [Fact]
    public Task AFailingMember_IsRetriedWithBackoff_WhileTheOthersAreServed() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var target = new FakeTarget(["a", "b"]);
        var fanOut = new MemberFanOut(["a", "b"], 0, target, time);
        target.FailTimes("b", 2);

        target.Commit(2);
        fanOut.Advance(2);
        await target.WaitForDelivered("a", 2);
        await target.WaitForRetries("b", 1);

        Assert.Equal([1L, 2L], target.DeliveredTo("a"));
        Assert.Empty(target.DeliveredTo("b"));
        Assert.Equal(0, fanOut.Mark);
        Assert.Equal([TimeSpan.FromMilliseconds(50)], target.Retries("b"));

        time.Advance(TimeSpan.FromMilliseconds(50));
        await target.WaitForRetries("b", 2);
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)], target.Retries("b"));
        time.Advance(TimeSpan.FromMilliseconds(100));
        await target.WaitForDelivered("b", 2);

        Assert.Equal([1L, 2L], target.DeliveredTo("b"));
        Assert.Equal(2, fanOut.Mark);
    });

    [Fact]
    public Task ResumingFromAMark_StartsAfterIt() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a", "b"]);
        target.Commit(5);
        var fanOut = new MemberFanOut(["a", "b"], 3, target, new FakeTimeProvider(T0));

        Assert.Equal(3, fanOut.Mark);
        fanOut.Advance(5);
        await target.WaitForDelivered("a", 5);
        await target.WaitForDelivered("b", 5);

        Assert.Equal([4L, 5L], target.DeliveredTo("a"));
        Assert.Equal([4L, 5L], target.DeliveredTo("b"));
    });

    [Fact]
    public Task MembersGetTheLogFromTheirJoinToTheirLeave_AndTheMarkIgnoresThoseWhoLeft() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a", "b", "c"]);
        var fanOut = new MemberFanOut([Member("a", 1), Member("b", 1)], 0, target, new FakeTimeProvider(T0));

        target.Commit(3);              // 1..3; c joins at 3, b leaves at 3
        fanOut.Join("c", 3);
        fanOut.Leave("b", 3);
        target.Commit(2);              // 4, 5
        fanOut.Advance(5);
        await target.WaitForDelivered("a", 5);
        await target.WaitForDelivered("b", 3);
        await target.WaitForDelivered("c", 5);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], target.DeliveredTo("a"));
        Assert.Equal([1L, 2L, 3L], target.DeliveredTo("b"));
        Assert.Equal([3L, 4L, 5L], target.DeliveredTo("c"));
        Assert.Equal(5, fanOut.Mark); // b, who left at 3, does not hold it back
    });

    [Fact]
    public Task AMemberWhoLeftAndRejoined_GetsNothingOfTheGap() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a", "b"]);
        var fanOut = new MemberFanOut([Member("a", 1), Member("b", 1, leftSeq: 2)], 0, target, new FakeTimeProvider(T0));
        target.Commit(4);
        fanOut.Advance(4);
        await target.WaitForDelivered("b", 2);
        await target.WaitForDelivered("a", 4);

        target.Commit(2);              // 5 adds b again, 6
        fanOut.Join("b", 5);
        fanOut.Advance(6);
        await target.WaitForDelivered("b", 6);

        Assert.Equal([1L, 2L, 5L, 6L], target.DeliveredTo("b"));
    });

    [Fact]
    public Task ResumingAfterACrash_SkipsMembersWhoLeftBeforeTheMark_AndStartsJoinersAtTheirJoin() => OneTurnAtATime.Run(async () =>
    {
        var target = new FakeTarget(["a", "b", "c"]);
        target.Commit(6);
        var fanOut = new MemberFanOut([Member("a", 1), Member("b", 1, leftSeq: 2), Member("c", 5)], 3, target, new FakeTimeProvider(T0));

        Assert.Equal(3, fanOut.Mark);
        fanOut.Advance(6);
        await target.WaitForDelivered("a", 6);
        await target.WaitForDelivered("c", 6);

        Assert.Equal([4L, 5L, 6L], target.DeliveredTo("a"));
        Assert.Empty(target.DeliveredTo("b"));
        Assert.Equal([5L, 6L], target.DeliveredTo("c"));
        Assert.Equal(6, fanOut.Mark);
    });

    private static MemberRecord Member(string id, long joinedSeq, long leftSeq = 0) => new(id, MemberRole.Member, joinedSeq, leftSeq, false);

    /// <summary>A conversation stand-in: a log, recorded deliveries, holds and injected failures.</summary>
    private sealed class FakeTarget : IFanOutTarget
    {
        public FakeTarget(string[] members)
        {
            _gate = new Lock();
            _conditions = new Conditions(_gate);
            _batches = members.ToDictionary(m => m, _ => new List<long[]>());
            _retries = members.ToDictionary(m => m, _ => new List<TimeSpan>());
        }

        private readonly Lock _gate;
        private readonly Conditions _conditions;
        private readonly List<ChatMessage> _log = [];
        private readonly Dictionary<string, List<long[]>> _batches;
        private readonly Dictionary<string, List<TimeSpan>> _retries;
        private readonly Dictionary<string, int> _failures = [];
        private readonly Dictionary<string, TaskCompletionSource> _holds = [];
        private readonly Dictionary<string, TaskCompletionSource> _reached = [];

        public void Commit(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var seq = _log.Count + 1;
                _log.Add(new ChatMessage("c", seq, "a", $"m{seq}", $"text {seq}", T0));
            }
        }

        public TaskCompletionSource HoldNext(string member)
        {
            var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _holds[member] = hold;
            _reached[member] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return hold;
        }

        public Task Reached(string member) => _reached[member].Task;

        public void FailTimes(string member, int times) => _failures[member] = times;

        public long[] DeliveredTo(string member) { lock (_gate) return _batches[member].SelectMany(b => b).ToArray(); }
        public long[][] BatchesTo(string member) { lock (_gate) return [.. _batches[member]]; }
        public TimeSpan[] Retries(string member) { lock (_gate) return [.. _retries[member]]; }

        public Task WaitForRetries(string member, int count) => _conditions.WaitFor(() => _retries[member].Count >= count);
        public Task WaitForDelivered(string member, long seq) => _conditions.WaitFor(() => _batches[member].Any(b => b.Contains(seq)));

        public ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(long afterSeq, int limit) =>
            ValueTask.FromResult<IReadOnlyList<ChatMessage>>(_log.Where(m => m.Seq > afterSeq).Take(limit).ToList());

        public async Task<DeliveryReceipt> DeliverAsync(string userId, IReadOnlyList<ChatMessage> messages)
        {
            try
            {
                if (_holds.Remove(userId, out var hold))
                {
                    _reached[userId].SetResult();
                    await hold.Task;
                }
                await Task.Yield();
                if (_failures.TryGetValue(userId, out var left) && left > 0)
                {
                    _failures[userId] = left - 1;
                    throw new InvalidOperationException("member down");
                }
                return new DeliveryReceipt(messages.Select(m => m.Seq).ToArray(), Live: true);
            }
            finally
            {
                lock (_gate) _conditions.Signal();
            }
        }

        public void OnDelivered(string userId, IReadOnlyList<ChatMessage> messages, DeliveryReceipt receipt, bool markMoved)
        {
            lock (_gate) { _batches[userId].Add(messages.Select(m => m.Seq).ToArray()); _conditions.Signal(); }
        }

        public void OnDeliveryFailed(string userId, Exception error, TimeSpan retryIn)
        {
            lock (_gate) { _retries[userId].Add(retryIn); _conditions.Signal(); }
        }
    }
}
