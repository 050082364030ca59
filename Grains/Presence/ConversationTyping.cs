namespace Messenger.Grains.Presence;

/// <summary>
/// Typing in one conversation: the <see cref="TypingTracker"/>, the grain timer that ends typing
/// nobody renewed, and the broadcast of starts and stops. Nothing is stored.
/// </summary>
internal sealed class ConversationTyping(PresenceOptions options, TimeProvider time, Grain grain, string conversationId, Action<TypingEvent> broadcast)
{
    private readonly TypingTracker _tracker = new(options.TypingTimeout, options.TypingMinInterval);
    private IGrainTimer? _timer;

    /// <summary>A typing signal (throws <see cref="ErrorCode.RateLimited"/> when too frequent).</summary>
    public void Signal(string userId)
    {
        var now = time.GetUtcNow();
        if (_tracker.Signal(userId, now))
        {
            broadcast(new TypingEvent(conversationId, userId, true, (int)options.TypingTimeout.TotalMilliseconds));
        }
        ScheduleExpiry(now);
    }

    /// <summary>The user sent a message: their typing ends now.</summary>
    public void Stopped(string userId)
    {
        if (_tracker.Stop(userId)) broadcast(new TypingEvent(conversationId, userId, false, 0));
    }

    private Task ExpireAsync()
    {
        var now = time.GetUtcNow();
        if (_tracker.Expire(now) is { } stopped)
        {
            foreach (var userId in stopped) broadcast(new TypingEvent(conversationId, userId, false, 0));
        }
        ScheduleExpiry(now);
        return Task.CompletedTask;
    }

    private void ScheduleExpiry(DateTimeOffset now)
    {
        if (_tracker.NextExpiry is not { } next) return;
        var due = next - now;
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        _timer ??= grain.RegisterGrainTimer(_ => ExpireAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }
}
