using System.Text;
using Messenger.Gateway.Sessions;

namespace Messenger.Tests.Units;

/// <summary>A session's outbound frames: in order, a writer told of each, a poll woken by them, nothing after the end.</summary>
public sealed class OutboundQueueTests
{
    private static OutboundFrame Frame(string text, bool reply = false) => new(Encoding.UTF8.GetBytes(text), reply);

    private static List<string> TakeAll(OutboundQueue queue)
    {
        var taken = new List<string>();
        while (queue.TryTake(out var frame)) taken.Add(Encoding.UTF8.GetString(frame.Bytes));
        return taken;
    }

    [Fact]
    public void Frames_ComeOutInTheOrderQueued_AndNothingIsQueuedAfterTheEnd_WhileWhatWasQueuedStillComesOut()
    {
        var queue = new OutboundQueue();
        Assert.True(queue.IsIdle);
        Assert.True(queue.TryAdd(Frame("a")));
        Assert.True(queue.TryAdd(Frame("b", reply: true)));
        Assert.False(queue.IsIdle);
        Assert.True(queue.TryTake(out var first));
        Assert.Equal("a", Encoding.UTF8.GetString(first.Bytes));
        Assert.False(first.IsReply);
        Assert.True(queue.TryAdd(Frame("c")));

        queue.Complete();
        Assert.False(queue.TryAdd(Frame("late")));
        Assert.False(queue.IsIdle);     // the end is news for the writer...
        Assert.False(queue.IsFinished); // ...but two frames are still to go out
        Assert.Equal(["b", "c"], TakeAll(queue));
        Assert.True(queue.IsFinished);
        Assert.False(queue.TryTake(out _));
    }

    [Fact]
    public void TheWriter_IsToldAtOnceForWhatIsQueued_ThenOfEachFrame_ThenOfTheEnd_AndOfAWake()
    {
        var queue = new OutboundQueue();
        queue.TryAdd(Frame("hello"));
        var calls = 0;
        var seen = new List<string>();
        queue.StartWriting(() =>
        {
            calls++;
            seen.AddRange(TakeAll(queue)); // a writer that writes on the caller's thread, as the socket's does
        });
        Assert.Equal(1, calls);
        Assert.Equal(["hello"], seen);
        Assert.True(queue.IsIdle);

        queue.TryAdd(Frame("one"));
        queue.TryAdd(Frame("two"));
        Assert.Equal(3, calls);
        Assert.Equal(["hello", "one", "two"], seen);

        queue.WakeWriter();
        Assert.Equal(4, calls);
        queue.Complete();
        Assert.Equal(5, calls);
        Assert.True(queue.IsFinished);
        queue.Complete(); // a second end changes nothing and tells nobody
        Assert.Equal(5, calls);
    }

    [Fact]
    public async Task FramesQueuedFromManyThreads_AllComeOut_EachProducersInItsOrder()
    {
        var queue = new OutboundQueue();
        const int Producers = 4, Each = 2_000;
        using var start = new Barrier(Producers);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < Each; i++) Assert.True(queue.TryAdd(Frame($"{p}:{i}")));
        })).ToArray();
        var taken = new List<string>();
        while (taken.Count < Producers * Each)
        {
            if (!queue.TryTake(out var frame))
            {
                Assert.True(await queue.WaitToReadAsync(CancellationToken.None));
                continue;
            }
            taken.Add(Encoding.UTF8.GetString(frame.Bytes));
        }
        await Task.WhenAll(producers);
        for (var p = 0; p < Producers; p++)
        {
            var mine = taken.Where(t => t.StartsWith($"{p}:", StringComparison.Ordinal)).Select(t => int.Parse(t[(t.IndexOf(':') + 1)..])).ToList();
            Assert.Equal(Enumerable.Range(0, Each), mine);
        }
    }

    [Fact]
    public async Task APoll_WaitsForAFrame_IsToldOfTheEnd_AndCanGiveUp()
    {
        var queue = new OutboundQueue();
        var waiting = queue.WaitToReadAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        queue.TryAdd(Frame("presence"));
        Assert.True(await waiting);
        Assert.True(await queue.WaitToReadAsync(CancellationToken.None)); // queued already: at once
        Assert.Equal(["presence"], TakeAll(queue));

        using var giveUp = new CancellationTokenSource();
        var abandoned = queue.WaitToReadAsync(giveUp.Token);
        var alongside = queue.WaitToReadAsync(CancellationToken.None); // a newer poll, while the older one gives up
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        // Neither the wait alongside nor a later one is disturbed by the one that gave up.
        var next = queue.WaitToReadAsync(CancellationToken.None);
        Assert.False(alongside.IsCompleted);
        queue.TryAdd(Frame("typing"));
        Assert.True(await alongside);
        Assert.True(await next);
        TakeAll(queue);

        var last = queue.WaitToReadAsync(CancellationToken.None);
        queue.Complete();
        Assert.False(await last);
        Assert.False(await queue.WaitToReadAsync(CancellationToken.None));
    }
}
