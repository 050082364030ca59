namespace Messenger.Bench.Driver;

/// <summary>Fills a conversation fast: sends pipelined over one socket, at most <c>window</c> unacknowledged.</summary>
public static class Pipeline
{
    public sealed record FillResult(int Sent, int Errors, TimeSpan Elapsed, string? FirstError)
    {
        public double PerSecond => Sent / Math.Max(Elapsed.TotalSeconds, 1e-9);
    }

    public static async Task<FillResult> FillAsync(BenchSocket socket, ReplyTracker tracker, string conversationId, int count, int window, string text, string tag)
    {
        using var slots = new SemaphoreSlim(window);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var completed = 0;
        var errors = 0;
        string? firstError = null;
        var started = Clock.NowUs();
        for (var i = 0; i < count; i++)
        {
            await slots.WaitAsync();
            var id = tracker.NextId();
            var reply = tracker.Expect(id);
            _ = reply.ContinueWith(t =>
            {
                if (!t.IsCompletedSuccessfully || t.Result.Type != FrameType.Ack)
                {
                    Interlocked.Increment(ref errors);
                    firstError ??= t.IsCompletedSuccessfully ? $"{t.Result.ErrorCode}: {t.Result.ErrorMessage}" : t.Exception?.GetBaseException().Message;
                }
                slots.Release();
                if (Interlocked.Increment(ref completed) == count) done.TrySetResult();
            }, TaskScheduler.Default);
            await socket.SendAsync(FrameWriter.Send(id, conversationId, $"{tag}-{i}", text));
        }
        if (count > 0) await done.Task.WaitAsync(TimeSpan.FromMinutes(10));
        return new FillResult(count, errors, TimeSpan.FromMicroseconds(Clock.NowUs() - started), firstError);
    }
}
