using System.Net.WebSockets;

namespace Messenger.Client;

// The connection's state as an application sees it: time spent reconnecting, how a socket ended, and
// being logged out (the one end the client does not recover from by itself).
public sealed partial class MessengerClient
{
    /// <summary>A connection is back (a hello, or a first successful poll): the time without one ends.</summary>
    private void MarkConnected()
    {
        var downSince = Interlocked.Exchange(ref _downSince, 0);
        if (downSince == 0) return;
        Interlocked.Add(ref _downTicks, System.Diagnostics.Stopwatch.GetTimestamp() - downSince);
        Interlocked.Increment(ref _reconnects);
    }

    /// <summary>Close status 1012 ("Service Restart"): the gateway is shutting down; reconnect at once, elsewhere.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>Close status 4001 (reason <c>logged_out</c>): this device was logged out, or its account deleted.</summary>
    public const WebSocketCloseStatus LoggedOutStatus = (WebSocketCloseStatus)4001;

    private int _loggedOut;

    /// <summary>
    /// True once the server said this device was logged out (from another device, or by itself) or its account
    /// was deleted: the token no longer works, the client stopped reconnecting, every request fails with
    /// <c>logged_out</c>, and <see cref="Updates"/> completed with that error (its <c>Completion</c> and
    /// <c>ReadAllAsync</c> throw it). Log in again and connect anew.
    /// </summary>
    public bool IsLoggedOut => Volatile.Read(ref _loggedOut) == 1;

    /// <summary>Raised once when <see cref="IsLoggedOut"/> becomes true.</summary>
    public event Action? LoggedOut;

    private static MessengerClientException LoggedOutError() =>
        new("logged_out", "this device was logged out (or its account deleted); log in again.", 401);

    /// <summary>The client is done: the server refuses its token for good. Fails what waits, says so once.</summary>
    private void EndLoggedOut()
    {
        if (Interlocked.Exchange(ref _loggedOut, 1) == 1) return;
        var error = LoggedOutError();
        foreach (var pending in _pending.Values) pending.Reply.TrySetException(error);
        _firstConnect.TrySetException(error);
        _updates.Writer.TryComplete(error);
        LoggedOut?.Invoke();
    }

    /// <summary>Asks over REST why the handshake was refused: true only for <c>logged_out</c> (an expired token, a network problem: false).</summary>
    private async Task<bool> IsTokenLoggedOutAsync()
    {
        try
        {
            using var http = new MessengerHttpClient(_servers[_server], _token, TimeSpan.FromSeconds(10));
            await http.GetMeAsync(_disposed.Token);
            return false;
        }
        catch (MessengerClientException ex)
        {
            return ex.Code == "logged_out";
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static async Task AnswerCloseAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
        catch (Exception) { socket.Abort(); }
    }

    private long _downSince;  // Stopwatch timestamp of the last lost socket, 0 while connected
    private long _downTicks;  // total Stopwatch ticks spent without a socket, after the first hello
    private int _reconnects;

    /// <summary>
    /// Raised when a socket that was open ends: the close status and reason the server sent, or nulls
    /// for a connection that broke. The client reconnects by itself.
    /// </summary>
    public event Action<WebSocketCloseStatus?, string?>? Disconnected;

    /// <summary>How many times a lost socket was replaced by a new one (a new hello).</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Total time spent between losing a socket and the next hello.</summary>
    public TimeSpan TimeReconnecting => TimeSpan.FromSeconds((double)Interlocked.Read(ref _downTicks) / System.Diagnostics.Stopwatch.Frequency);
}
