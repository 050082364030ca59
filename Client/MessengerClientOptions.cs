namespace Messenger.Client;

/// <summary>Settings of a <see cref="MessengerClient"/>.</summary>
public sealed class MessengerClientOptions
{
    /// <summary>How long a request may wait for its reply, across reconnects.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First reconnect delay; doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest reconnect delay.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Page size used when catching up (1..500).</summary>
    public int SyncPageSize { get; set; } = 500;

    /// <summary>The cursor (last applied userSeq) to start from; a device persists it between runs.</summary>
    public long InitialCursor { get; set; }

    /// <summary>
    /// Other gateways of the same cluster. When connecting to one fails, the client tries the next, in
    /// a ring starting from the server given to <see cref="MessengerClient.ConnectAsync"/>. A token is good on every gateway.
    /// </summary>
    public IReadOnlyList<Uri> AlternateServers { get; set; } = [];

    /// <summary>
    /// First wait before a request answered <c>unavailable</c> is sent again (same frame, so a send keeps
    /// its clientMsgId); doubles up to 2 s, within <see cref="RequestTimeout"/>.
    /// </summary>
    public TimeSpan UnavailableRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// WebSocket, long-poll, or (the default) a WebSocket that falls back to long-poll for good when the
    /// handshake is answered by anything other than the server's own refusals (a proxy that does not pass
    /// WebSockets answers 400, 403, 404, 426, …).
    /// </summary>
    public ClientTransport Transport { get; set; } = ClientTransport.Auto;

    /// <summary>
    /// Long-poll: how long one poll may take before the connection is taken for dead and the client
    /// polls again (elsewhere, if there are alternates). Keep it above the server's hold
    /// (<c>Gateway:PollHold</c>, 25 s by default).
    /// </summary>
    public TimeSpan LongPollTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
