using System.Text.Json;
using Messenger.Gateway.Endpoints;
using Messenger.Gateway.Protocol;
using Messenger.Grains;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// A device that long-polls: one <see cref="ClientSession"/> (attached like a socket's, so the device is
/// live and gets pushes) that outlives each HTTP request. Updates always come from the user's log after
/// the caller's cursor, so a poll can neither skip nor repeat one; a pushed <c>updates</c> frame only
/// says the log moved. Presence and typing frames pushed meanwhile are handed over as they are, and
/// stay here until a poll answers with them. One poll at a time: a newer one replaces the one waiting,
/// which answers <c>poll_replaced</c> and hands its events on.
/// </summary>
public sealed class PollSession(ClientSession session, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<JsonElement> _events = []; // drained from the session, not yet answered
    private CancellationTokenSource? _waiting;       // the poll in progress, cancelled when a newer one replaces it
    private long _idleSince = time.GetTimestamp();

    public ClientSession Session => session;

    /// <summary>True when no poll has been in progress for longer than <paramref name="timeout"/>.</summary>
    public bool IdleLongerThan(TimeSpan timeout)
    {
        lock (_lock) return _waiting is null && time.GetElapsedTime(_idleSince) > timeout;
    }

    /// <summary>
    /// Answers at once when the log holds updates after <paramref name="after"/> or events are queued;
    /// otherwise waits up to <paramref name="hold"/> for a push, then answers (empty if nothing came).
    /// Ends at once, answering what there is, when the gateway shuts the session down.
    /// </summary>
    public async Task<WirePollResult> PollAsync(GrainReferences grains, long? after, long? limit, TimeSpan hold, CancellationToken aborted)
    {
        var mine = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        try
        {
            CancellationTokenSource? previous;
            lock (_lock)
            {
                previous = _waiting;
                _waiting = mine;
            }
            try
            {
                previous?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
            var deadline = time.GetTimestamp() + (long)(hold.TotalSeconds * time.TimestampFrequency);
            while (true)
            {
                if (session.IsLoggedOut) throw LoggedOut();
                // Frames first, then the log: an update pushed after this drain stays queued and wakes the wait below.
                var events = Drain();
                var page = await Requests.SyncAsync(grains, session.UserId, after, limit);
                if (page.Updates.Count > 0 || events > 0) return Answer(page, mine);
                var open = await WaitUntilAsync(deadline, mine.Token);
                if (open is null) return Answer(page, mine); // the hold is over
                if (open == false)
                {
                    if (session.IsLoggedOut) throw LoggedOut();
                    // The session ends (the gateway shuts down): answer what there is, at once.
                    Drain();
                    return Answer(await Requests.SyncAsync(grains, session.UserId, after, limit), mine);
                }
            }
        }
        catch (OperationCanceledException) when (mine.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw Replaced();
        }
        finally
        {
            lock (_lock)
            {
                if (_waiting == mine)
                {
                    _waiting = null;
                    _idleSince = time.GetTimestamp();
                }
            }
            mine.Dispose();
        }
    }

    /// <summary>
    /// Waits for a frame until <paramref name="deadline"/> (a <see cref="TimeProvider"/> timestamp): true when one is
    /// queued, false when the session ended, null once the deadline has passed. A timer may fire a little early
    /// (its clock ticks in milliseconds), so the deadline is checked against the timestamp, never taken from the timer.
    /// </summary>
    private async Task<bool?> WaitUntilAsync(long deadline, CancellationToken cancel)
    {
        while (true)
        {
            var remaining = time.GetElapsedTime(time.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero) return null;
            using var timer = new CancellationTokenSource(remaining, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancel, timer.Token);
            try
            {
                return await session.WaitToReadAsync(either.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                // The timer fired: loop to see whether the deadline has really passed.
            }
        }
    }

    /// <summary>Moves queued presence and typing frames to the events kept here; returns how many are kept.</summary>
    private int Drain()
    {
        lock (_lock)
        {
            while (session.TryRead(out var frame))
            {
                if (UpdateFrames.IsUpdatesFrame(frame.Bytes)) continue;
                using var document = JsonDocument.Parse(frame.Bytes);
                _events.Add(document.RootElement.Clone());
            }
            return _events.Count;
        }
    }

    /// <summary>
    /// The answer, with the events kept so far, unless a newer poll replaced this one (it gets them) or
    /// the client went away (its next poll gets them).
    /// </summary>
    private WirePollResult Answer(SyncPage page, CancellationTokenSource mine)
    {
        lock (_lock)
        {
            if (_waiting != mine) throw Replaced();
            mine.Token.ThrowIfCancellationRequested(); // the client is gone: the events wait for its next poll
            JsonElement[] events = [.. _events];
            _events.Clear();
            return new WirePollResult(page.Updates.ToWire(), page.HasMore, page.LastUserSeq, events);
        }
    }

    private static MessengerException LoggedOut() => MessengerException.TokenRefused(ErrorCode.LoggedOut);

    private static MessengerException Replaced() => new(ErrorCode.PollReplaced, "a newer poll of this device replaced this one.");
}
