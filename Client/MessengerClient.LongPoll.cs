using System.Net.WebSockets;
using System.Text.Json;

namespace Messenger.Client;

// The long-poll side of the client: when to fall back to it, and the poll loop that replaces the socket.
public sealed partial class MessengerClient
{
    /// <summary>
    /// A handshake answered with an HTTP status, but not one of the server's own refusals (401 a bad
    /// token, 429, 503 a gateway not ready or shutting down): a proxy on the way refused the upgrade.
    /// </summary>
    private static bool BlockedOnTheWay(System.Net.HttpStatusCode status) =>
        status != 0 && status != System.Net.HttpStatusCode.Unauthorized && status != System.Net.HttpStatusCode.TooManyRequests
        && status != System.Net.HttpStatusCode.ServiceUnavailable && (int)status < 500;

    private void SwitchToLongPoll()
    {
        _poll = new LongPollTransport(_servers, _token);
        // Requests written to sockets and waiting for a reconnect go over REST now.
        foreach (var pending in _pending.Values) _ = ResendOverRestAsync(pending.Out, pending);
    }

    private async Task ResendOverRestAsync(OutFrame frame, PendingRequest pending)
    {
        try { pending.Reply.TrySetResult(await _poll!.RequestAsync(frame, _options.RequestTimeout, _options.MinReconnectDelay, _disposed.Token)); }
        catch (Exception ex) { pending.Reply.TrySetException(ex); }
    }

    /// <summary>
    /// Long-polls from the cursor until disposed: updates go to the same apply loop as a socket's pushes
    /// (so order, gaps and duplicates are handled in one place), events to the presence and typing
    /// channels. A failed poll moves to the next server and backs off as a reconnect does.
    /// </summary>
    private async Task PollLoopAsync()
    {
        var poll = _poll!;
        var delay = _options.MinReconnectDelay;
        var after = Cursor;
        var polling = false;
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                // The first poll after (re)connecting answers at once, so that connecting does not wait for the hold.
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
                attempt.CancelAfter(_options.LongPollTimeout);
                var result = await poll.Current.PollAsync(after, _options.SyncPageSize, wait: polling ? null : TimeSpan.Zero, attempt.Token);
                delay = _options.MinReconnectDelay;
                if (!polling)
                {
                    polling = true;
                    Connections++;
                    if (UserId.Length == 0) UserId = (await poll.Current.GetMeAsync(_disposed.Token)).UserId;
                    MarkConnected();
                    _firstConnect.TrySetResult();
                }
                if (result.Updates.Count > 0)
                {
                    _inbox.Writer.TryWrite(new InFrame { Type = "updates", Updates = [.. result.Updates] });
                    after = result.Updates[^1].UserSeq;
                }
                foreach (var e in result.Events)
                {
                    var frame = e.Deserialize(ClientJson.Default.InFrame);
                    if (frame?.Type == "presence") foreach (var presence in frame.Users ?? []) OnPresence(presence);
                    else if (frame?.Type == "typing") _typing.Writer.TryWrite(new TypingChange(frame.ConversationId ?? "", frame.UserId ?? "", frame.Typing, frame.ExpiresInMs));
                }
                continue;
            }
            catch (MessengerClientException ex) when (ex.Code == "out_of_range" && after > 0)
            {
                // The server's log is behind this device's cursor (its data was reset). The apply loop, the
                // one place the cursor moves, starts over (as after a hello); polling goes on from 0.
                _inbox.Writer.TryWrite(null);
                after = 0;
                continue;
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
                return;
            }
            catch (MessengerClientException ex) when (ex.Code == "logged_out")
            {
                // The device was logged out or the account deleted: polling again cannot help.
                EndLoggedOut();
                return;
            }
            catch (Exception)
            {
                // The server is away (or another poll of this device replaced ours): next server, with backoff.
                if (polling)
                {
                    polling = false;
                    Interlocked.CompareExchange(ref _downSince, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
                    Disconnected?.Invoke(null, null);
                }
                poll.NextServer();
                after = Cursor;
            }
            delay = await BackOffAsync(delay);
        }
    }
}
