using System.Collections.Concurrent;
using System.Text.Json;

namespace Messenger.Bench.Driver;

/// <summary>
/// Request/reply over <see cref="BenchSocket"/>s for the workloads that are not about raw rate
/// (fills, sync, history, ping): each request gets a numeric id and a task that the reply completes.
/// Pushed updates are only counted.
/// </summary>
public sealed class ReplyTracker : IFrameHandler
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<Reply>> _pending = new();
    private long _nextId;
    private long _pushes;
    private long _pushedUpdates;
    private long _unmatched;

    /// <summary>Update frames pushed to the sockets using this tracker.</summary>
    public long Pushes => Interlocked.Read(ref _pushes);

    /// <summary>Updates inside those frames.</summary>
    public long PushedUpdates => Interlocked.Read(ref _pushedUpdates);

    /// <summary>Frames that answered no known request (errors without an id, for instance).</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Sends <paramref name="frame"/> (which carries <paramref name="id"/>) and waits for its reply.</summary>
    public async Task<Reply> RequestAsync(BenchSocket socket, long id, ReadOnlyMemory<byte> frame, TimeSpan? timeout = null)
    {
        var reply = Expect(id);
        await socket.SendAsync(frame);
        return await reply.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>A task for the reply to <paramref name="id"/>; register before sending.</summary>
    public Task<Reply> Expect(long id)
    {
        var reply = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        return reply.Task;
    }

    public void OnFrame(BenchSocket socket, ReadOnlySpan<byte> frame, long receivedUs)
    {
        var reader = new Utf8JsonReader(frame);
        var type = Frames.ReadType(ref reader);
        if (type == FrameType.Updates)
        {
            Interlocked.Increment(ref _pushes);
            var items = Frames.ReadReply(type, ref reader, receivedUs).Items;
            Interlocked.Add(ref _pushedUpdates, items);
            return;
        }
        var reply = Frames.ReadReply(type, ref reader, receivedUs);
        if (reply.Id >= 0 && _pending.TryRemove(reply.Id, out var waiter)) waiter.TrySetResult(reply);
        else Interlocked.Increment(ref _unmatched);
    }
}
