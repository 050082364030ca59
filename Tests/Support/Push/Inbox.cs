using System.Net;
using System.Threading.Channels;

namespace Messenger.Tests.Support.Push;

/// <summary>An answer a test scripted for one request: its status, and the Retry-After to send with it.</summary>
internal readonly record struct ScriptedAnswer(HttpStatusCode Status, TimeSpan? RetryAfter);

/// <summary>
/// What one receiving end (a push device, a webhook) was sent and what it answered: the answers a test
/// scripted, taken first in, first out; every valid request, in arrival order; and a reader over the
/// recorded requests for tests that wait for the next one instead of polling.
/// </summary>
internal sealed class Inbox<T>(string name)
{
    private readonly Lock _gate = new();
    private readonly Queue<ScriptedAnswer> _scripted = new();
    private readonly List<T> _received = [];
    private readonly Channel<T> _unread = Channel.CreateUnbounded<T>();
    private int _returned;

    /// <summary>Queues the answer for the next valid request that is not otherwise answered.</summary>
    public void Script(HttpStatusCode status, TimeSpan? retryAfter)
    {
        if (retryAfter is { } delay && delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retryAfter));
        lock (_gate) _scripted.Enqueue(new ScriptedAnswer(status, retryAfter));
    }

    /// <summary>
    /// Picks the answer for a valid request (<paramref name="forced"/> if given, which leaves the script alone;
    /// else the next scripted one; else <paramref name="fallback"/>) and records the request with it. Both
    /// happen under one lock so the recorded order is the order in which answers were handed out.
    /// </summary>
    public ScriptedAnswer Accept(Func<HttpStatusCode, T> record, ScriptedAnswer fallback, ScriptedAnswer? forced = null)
    {
        lock (_gate)
        {
            var answer = forced ?? (_scripted.TryDequeue(out var scripted) ? scripted : fallback);
            var item = record(answer.Status);
            _received.Add(item);
            _unread.Writer.TryWrite(item);
            return answer;
        }
    }

    /// <summary>A snapshot of every recorded request, in arrival order.</summary>
    public IReadOnlyList<T> Received
    {
        get { lock (_gate) return [.. _received]; }
    }

    /// <summary>The next recorded request that no earlier call returned; <see cref="TimeoutException"/> if none comes in time.</summary>
    public async Task<T> NextAsync(TimeSpan timeout, Func<string> context)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var item = await _unread.Reader.ReadAsync(deadline.Token);
            Interlocked.Increment(ref _returned);
            return item;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            int received;
            lock (_gate) received = _received.Count;
            throw new TimeoutException(
                $"{name}: nothing new arrived within {timeout.TotalSeconds:0.###} s ({received} received in all, " +
                $"{Volatile.Read(ref _returned)} already returned by NextAsync). {context()}");
        }
    }
}
