using Messenger.Grains;
using Messenger.Tests.Support;
using Messenger.Grains.Delivery;

namespace Messenger.Tests.Units;

/// <summary>
/// The silo's outbox: one batch per gateway, each message once, each user's updates in order; the same for a gateway in
/// another process (called through its observer reference) and one in this process (called directly, <see cref="LocalGateways"/>).
/// </summary>
public sealed class UpdatePusherTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<UncallableReference> _references = [];

    /// <summary>An outbox, and what its pushes name for a gateway: the fake itself (another process) or a reference to it (this process).</summary>
    private (UpdatePusher Pusher, Func<FakeGateway, IUpdateObserver> Address) NewPusher(bool local)
    {
        var localGateways = new LocalGateways();
        var pusher = new UpdatePusher(Microsoft.Extensions.Logging.Abstractions.NullLogger<UpdatePusher>.Instance, localGateways);
        return (pusher, gateway =>
        {
            if (!local) return gateway;
            var reference = new UncallableReference();
            _references.Add(reference);
            localGateways.Add(reference, gateway);
            return reference;
        });
    }

    /// <summary>No gateway of this process was called through its reference (the outbox would swallow the exception).</summary>
    private void AssertNoReferenceCalled() => Assert.All(_references, r => Assert.Equal(0, r.Calls));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpdatesQueuedWhileABatchIsInFlight_GoInTheNextBatch_WithEachMessageOnce_AndOtherGatewaysAreNotHeldUp(bool local)
    {
        var (pusher, address) = NewPusher(local);
        var gateway = new FakeGateway(holdFirst: true);
        var other = new FakeGateway(holdFirst: false);
        var (toGateway, toOther) = (address(gateway), address(other));
        var message = new ChatMessage("g", 1, "u-0", "m1", "to everyone", T0);

        // The first push finds nobody flushing and starts a flush (on its own thread, or on the pool for a gateway here),
        // which the gateway holds.
        var first = Task.Run(() => pusher.Push([toGateway], "u-first", [new UserUpdate(1, UpdateKind.Message, "g", 1, message)]));
        await gateway.FirstArrived.WaitAsync(Timeout); // the flush is busy with the first batch...
        for (var i = 0; i < 100; i++)
        {
            // ...while a hundred users' grains hand over the same message, each under its own userSeq.
            pusher.Push(i % 10 == 0 ? [toGateway, toOther] : [toGateway], $"u-{i}", [new UserUpdate(10 + i, UpdateKind.Message, "g", 1, message)]);
        }
        gateway.Release();
        await first;
        var batches = await gateway.WaitForBatches(2); // the flush that was held sends the rest before it stops

        var second = batches[1];
        Assert.Equal(message, Assert.Single(second.Messages));
        Assert.Equal(100, second.Updates.Count);
        Assert.All(second.Updates, u => Assert.Equal(0, u.MessageIndex));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"u-{i}"), second.Updates.Select(u => u.UserId));
        // The other gateway's outbox was idle all along: it sent as the pushes came, on its own.
        await other.WaitForUpdates(10);
        Assert.Equal(10, other.Batches.Sum(b => b.Updates.Count));
        Assert.All(other.Batches, b => Assert.Equal(message, Assert.Single(b.Messages)));
        AssertNoReferenceCalled();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OneUsersUpdates_ArriveInUserSeqOrder_ReadMarksWithoutAMessage(bool local)
    {
        var (pusher, address) = NewPusher(local);
        var gateway = new FakeGateway(holdFirst: false);
        var to = address(gateway);
        var m1 = new ChatMessage("c1", 1, "u-x", "a", "one", T0);
        var m2 = new ChatMessage("c2", 1, "u-x", "b", "two", T0);

        pusher.Push([to], "u-me", [new UserUpdate(1, UpdateKind.Message, "c1", 1, m1)]);
        pusher.Push([to], "u-me", [new UserUpdate(2, UpdateKind.Message, "c2", 1, m2), new UserUpdate(3, UpdateKind.Read, "c1", 1, null)]);
        await gateway.WaitForUpdates(3);

        var expanded = gateway.Batches.SelectMany(b => b.Expand()).ToList();
        Assert.Equal([1L, 2L, 3L], expanded.Select(e => e.Update.UserSeq));
        Assert.Equal([m1, m2, null], expanded.Select(e => e.Update.Message));
        Assert.All(expanded, e => Assert.Equal("u-me", e.UserId));
        AssertNoReferenceCalled();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABatchOfManyMessages_CarriesEachOnce_AndEveryUpdatePointsAtItsOwn(bool local)
    {
        var (pusher, address) = NewPusher(local);
        var gateway = new FakeGateway(holdFirst: true);
        var to = address(gateway);
        var messages = Enumerable.Range(1, 20).Select(i => new ChatMessage("g", i, "u-x", $"m{i}", $"text {i}", T0)).ToArray();

        var first = Task.Run(() => pusher.Push([to], "u-first", [new UserUpdate(1, UpdateKind.Read, "g", 1, null)]));
        await gateway.FirstArrived.WaitAsync(Timeout);
        foreach (var user in new[] { "u-a", "u-b" })
        {
            // Each user's grain has its own copy of each message (as across silos): equal, not the same object.
            pusher.Push([to], user, messages.Select((m, i) => new UserUpdate(i + 1, UpdateKind.Message, "g", m.Seq, m with { })).ToList());
        }
        gateway.Release();
        await first;
        var second = (await gateway.WaitForBatches(2))[1];

        Assert.Equal(messages, second.Messages);
        Assert.Equal(40, second.Updates.Count);
        Assert.All(second.Expand(), e => Assert.Equal(e.Update.Seq, e.Update.Message!.Seq));
        AssertNoReferenceCalled();
    }

    [Fact]
    public async Task AGatewayInThisProcess_IsCalledFromTheThreadPool_NeverOnThePushersTurn_NorThroughItsReference()
    {
        var (pusher, address) = NewPusher(local: true);
        var gateway = new FakeGateway(holdFirst: true);
        var to = address(gateway);
        // A grain's turn: its own scheduler, one task at a time.
        var turn = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;

        var push = Task.Factory.StartNew(() => pusher.Push([to], "u-me", [new UserUpdate(1, UpdateKind.Read, "g", 1, null)]),
            CancellationToken.None, TaskCreationOptions.None, turn);
        // The gateway holds its batch, and the push is already done: the gateway's work is not on the turn.
        await gateway.FirstArrived.WaitAsync(Timeout);
        await push.WaitAsync(Timeout);
        gateway.Release();

        Assert.Single(Assert.Single(await gateway.WaitForBatches(1)).Updates);
        Assert.Same(TaskScheduler.Default, gateway.FirstScheduler);
        AssertNoReferenceCalled();
    }

    /// <summary>An observer reference whose calls would go through Orleans: a gateway in this process is never called through it.</summary>
    private sealed class UncallableReference : IUpdateObserver
    {
        private int _calls;
        public int Calls => Volatile.Read(ref _calls);
        private Task Called()
        {
            Interlocked.Increment(ref _calls);
            return Task.CompletedTask;
        }
        public async Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch)
        {
            await Called();
            return [];
        }
        public Task OnUserReleasedAsync(string userId) => Called();
        public Task OnHeartbeatAsync() => Called();
        public Task OnPresenceAsync(PresenceStatus status) => Called();
        public Task OnTypingAsync(string userId, TypingEvent typing) => Called();
        public Task OnDevicesChangedAsync(DeviceGrants grants) => Called();
    }

    private sealed class FakeGateway : IUpdateObserver
    {
        public FakeGateway(bool holdFirst)
        {
            _gate = new Lock();
            _conditions = new Conditions(_gate);
            _release = new ManualResetEventSlim(!holdFirst);
        }

        private readonly Lock _gate;
        private readonly Conditions _conditions;
        private readonly List<UpdateBatch> _batches = [];
        private readonly TaskCompletionSource _firstArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release;

        public Task FirstArrived => _firstArrived.Task;
        public IReadOnlyList<UpdateBatch> Batches { get { lock (_gate) return [.. _batches]; } }

        public void Release() => _release.Set();

        public Task OnUserReleasedAsync(string userId) => Task.CompletedTask;

        public Task OnHeartbeatAsync() => Task.CompletedTask;

        /// <summary>The task scheduler the first batch was handed over on.</summary>
        public TaskScheduler? FirstScheduler { get; private set; }

        public Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch)
        {
            lock (_gate) { _batches.Add(batch); _conditions.Signal(); }
            FirstScheduler ??= TaskScheduler.Current;
            _firstArrived.TrySetResult();
            // A one-way call to a remote gateway returns at once; holding the flush here stands in for
            // a flush that takes a while, so the next pushes pile up behind it.
            _release.Wait(TimeSpan.FromSeconds(10));
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        public Task OnPresenceAsync(PresenceStatus status) => Task.CompletedTask;
        public Task OnTypingAsync(string userId, TypingEvent typing) => Task.CompletedTask;
        public Task OnDevicesChangedAsync(DeviceGrants grants) => Task.CompletedTask;

        public async Task<IReadOnlyList<UpdateBatch>> WaitForBatches(int count)
        {
            await _conditions.WaitFor(() => _batches.Count >= count);
            return Batches;
        }

        public Task WaitForUpdates(int count) => _conditions.WaitFor(() => _batches.Sum(b => b.Updates.Count) >= count);
    }
}
