using System.Text.Json;
using Messenger.Gateway.Endpoints;
using Messenger.Gateway.Protocol;
using Messenger.Grains;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// A device that long-polls: one <see cref="ClientSession"/> (attached like a socket's, so the device is
/// live and gets pushes) that outlives each HTTP request. Updates always come from the user's log after
/// the caller's cursor, so a poll can neither skip nor repeat one; a pushed <c>updates</c> frame only
/// says the log moved. Presence and typing frames pushed meanwhile are handed over as they are.
/// One poll at a time: a newer one replaces the one waiting.
/// </summary>
public sealed class PollSession(ClientSession session, TimeProvider time)
{
    private readonly Lock _lock = new();
    private CancellationTokenSource? _waiting; // the poll in progress, cancelled when a newer one replaces it
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
    public async Task<WirePollResult> PollAsync(GrainReferences grains, long? after, int? limit, TimeSpan hold, CancellationToken aborted)
    {
        using var mine = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        CancellationTokenSource? previous;
        lock (_lock)
        {
            previous = _waiting;
            _waiting = mine;
        }
        previous?.Cancel();
        var replacedOrGone = mine.Token;
        try
        {
            var events = new List<JsonElement>();
            var deadline = time.GetTimestamp() + (long)(hold.TotalSeconds * time.TimestampFrequency);
            while (true)
            {
                // Frames first, then the log: an update pushed after this drain stays queued and wakes the wait below.
                Drain(events);
                var page = await Requests.SyncAsync(grains, session.UserId, after, limit);
                var remaining = TimeSpan.FromSeconds((double)(deadline - time.GetTimestamp()) / time.TimestampFrequency);
                if (page.Updates.Count > 0 || events.Count > 0 || remaining <= TimeSpan.Zero) return Result(page, events);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(replacedOrGone);
                timeout.CancelAfter(remaining);
                bool open;
                try
                {
                    open = await session.Outbound.WaitToReadAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!replacedOrGone.IsCancellationRequested)
                {
                    return Result(page, events); // the hold is over
                }
                if (!open) return Result(await Requests.SyncAsync(grains, session.UserId, after, limit), events); // shutting down
            }
        }
        catch (OperationCanceledException) when (mine.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new MessengerException(ErrorCode.PollReplaced, "a newer poll of this device replaced this one.");
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
        }
    }

    private void Drain(List<JsonElement> events)
    {
        while (session.Outbound.TryRead(out var frame))
        {
            if (UpdateFrames.IsUpdatesFrame(frame)) continue;
            using var document = JsonDocument.Parse(frame);
            events.Add(document.RootElement.Clone());
        }
    }

    private static WirePollResult Result(SyncPage page, List<JsonElement> events) =>
        new(page.Updates.ToWire(), page.HasMore, page.LastUserSeq, events);
}
