namespace Messenger.Gateway.Hosting;

/// <summary>Transport limits of the gateway. Section <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway";

    /// <summary>
    /// Longest request line (method, path and query) the HTTP server takes, in bytes. Kestrel refuses a
    /// longer one itself (414, no body: no middleware runs), so this is well above any URL the API needs
    /// (a presence query for 500 ids is about 17 KB) and Kestrel's own default of 8 KiB.
    /// </summary>
    public const int MaxRequestLineBytes = 64 * 1024;

    /// <summary>Largest inbound WebSocket frame (one JSON message), in bytes.</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>Largest REST request body, in bytes.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Pushed frames queued for one socket before it counts as a slow consumer and is closed. Replies have
    /// room of their own besides: one per request in flight (see <see cref="MaxInFlightPerConnection"/>).
    /// </summary>
    public int OutboundQueueFrames { get; set; } = 1024;

    /// <summary>
    /// Requests one socket may have unanswered: from when the server reads one until its reply is written to
    /// the socket. Reading pauses beyond it, so a client that does not read its replies is not read either.
    /// </summary>
    public int MaxInFlightPerConnection { get; set; } = 256;

    /// <summary>Interval of WebSocket protocol pings.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A socket that answers no ping within this is closed as dead.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long one frame may take to write before the socket is considered stuck and dropped.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a copy of a user's device grants is trusted before it is fetched again (which renews this gateway's
    /// registration with the user grain); also how soon a round of <see cref="ReconcileInterval"/> that could not reach
    /// every user grain (a silo was lost) is run again.
    /// </summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How often the gateway checks every open session and presence watch with its user grain and attaches again
    /// any the grain does not know (a repair; they are kept alive by the silos' heartbeat, not by this). Also run at
    /// once when the gateway loses a silo.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// On shutdown, how long the gateway waits for requests in progress to be answered before it closes
    /// its sockets (with status 1012, <c>server_shutdown</c>). Keep the orchestrator's grace period longer.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest a long-poll request waits for something to answer (<c>wait</c> may ask for less).</summary>
    public TimeSpan PollHold { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// A polling device's session (its liveness for presence, its presence subscription) ends this long
    /// after its last poll finished, unless another poll came.
    /// </summary>
    public TimeSpan PollSessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the .NET host may take to stop: the drain, the clients' answers to the close, then the
    /// Orleans client (or the in-process silo) — never less than the host's default of 30 s.
    /// </summary>
    public TimeSpan HostShutdownTimeout => TimeSpan.FromSeconds(Math.Max(30, (DrainTimeout + TimeSpan.FromSeconds(20)).TotalSeconds));

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (MaxFrameBytes is < 1024 or > 16 * 1024 * 1024) throw new InvalidOperationException($"{SectionName}:{nameof(MaxFrameBytes)} must be 1024..16777216, is {MaxFrameBytes}.");
        if (MaxBodyBytes is < 1024 or > 16 * 1024 * 1024) throw new InvalidOperationException($"{SectionName}:{nameof(MaxBodyBytes)} must be 1024..16777216, is {MaxBodyBytes}.");
        if (OutboundQueueFrames is < 16 or > 1_000_000) throw new InvalidOperationException($"{SectionName}:{nameof(OutboundQueueFrames)} must be 16..1000000, is {OutboundQueueFrames}.");
        if (MaxInFlightPerConnection is < 1 or > 100_000) throw new InvalidOperationException($"{SectionName}:{nameof(MaxInFlightPerConnection)} must be 1..100000, is {MaxInFlightPerConnection}.");
        if (KeepAliveInterval < TimeSpan.FromSeconds(1)) throw new InvalidOperationException($"{SectionName}:{nameof(KeepAliveInterval)} must be at least 00:00:01.");
        if (KeepAliveTimeout < TimeSpan.FromSeconds(1)) throw new InvalidOperationException($"{SectionName}:{nameof(KeepAliveTimeout)} must be at least 00:00:01.");
        if (SendTimeout < TimeSpan.FromSeconds(1)) throw new InvalidOperationException($"{SectionName}:{nameof(SendTimeout)} must be at least 00:00:01.");
        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > TimeSpan.FromMinutes(5)) throw new InvalidOperationException($"{SectionName}:{nameof(DrainTimeout)} must be 00:00:00 to 00:05:00, is {DrainTimeout}.");
        if (PollHold < TimeSpan.FromSeconds(1) || PollHold > TimeSpan.FromMinutes(5)) throw new InvalidOperationException($"{SectionName}:{nameof(PollHold)} must be 00:00:01 to 00:05:00, is {PollHold}.");
        if (PollSessionTimeout < TimeSpan.FromSeconds(1) || PollSessionTimeout > TimeSpan.FromHours(1)) throw new InvalidOperationException($"{SectionName}:{nameof(PollSessionTimeout)} must be 00:00:01 to 01:00:00, is {PollSessionTimeout}.");
        if (LeaseRenewInterval < TimeSpan.FromMilliseconds(100)) throw new InvalidOperationException($"{SectionName}:{nameof(LeaseRenewInterval)} must be at least 00:00:00.1.");
        if (ReconcileInterval < TimeSpan.FromMilliseconds(100)) throw new InvalidOperationException($"{SectionName}:{nameof(ReconcileInterval)} must be at least 00:00:00.1.");
    }
}
