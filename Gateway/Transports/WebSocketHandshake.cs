using Messenger.Gateway.Auth;
using Messenger.Gateway.Hosting;
using Messenger.Gateway.Protocol;
using Messenger.Gateway.Sessions;
using Messenger.Grains;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Transports;

/// <summary>
/// Answers <c>/v1/ws</c>: checks the token, attaches a session and runs the socket. It sits at the head of
/// the request pipeline, as a middleware of its own, rather than as a routed endpoint: every middleware
/// that awaits the rest of the pipeline (error pages, authentication, authorization, routing) would
/// otherwise stay suspended, with its state, for as long as the socket stays open, which is most of an
/// idle connection's life. Errors before the upgrade are answered as any endpoint answers them.
/// </summary>
public sealed class WebSocketHandshake(GatewayNode node, TokenService tokens, DeviceGrantCache grants,
    IOptions<GatewayOptions> options, ILogger<ClientSession> logger)
{
    public const string Path = "/v1/ws";

    /// <summary>
    /// The middleware: the WebSocket path is handled here (so the authentication middleware never sees it),
    /// anything else goes on down the pipeline.
    /// </summary>
    public RequestDelegate Middleware(RequestDelegate next) =>
        http => IsWebSocketPath(http.Request.Path) ? AcceptAsync(http) : next(http);

    private static bool IsWebSocketPath(PathString path) =>
        path.StartsWithSegments(Path, out var rest) && (!rest.HasValue || rest.Value == "/");

    private async Task AcceptAsync(HttpContext http)
    {
        ClientSession session;
        long userSeq;
        try
        {
            if (await CheckAsync(http) is not { } caller) return;
            node.EnsureTakingSessions();
            session = new ClientSession(caller.UserId!, caller.DeviceId!, caller.Generation, node, options.Value, logger);
            userSeq = await node.AttachAsync(session);
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            await ErrorMapping.WriteExceptionAsync(http, ex, logger);
            return;
        }
        try
        {
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            session.EnqueueHello(new HelloFrame("hello", session.UserId, session.DeviceId, userSeq, options.Value.MaxFrameBytes));
            await WebSocketTransport.RunAsync(socket, session, options.Value);
        }
        finally
        {
            await node.DetachAsync(session);
            session.MarkEnded();
        }
    }

    /// <summary>
    /// The handshake authenticates here rather than in the authentication middleware, which would keep
    /// the token's principal referenced for as long as the socket stays open (a few KiB per idle
    /// connection); the session keeps only the user and device ids. Browsers cannot set headers on a
    /// WebSocket handshake, so the token may also come as the <c>access_token</c> query parameter.
    /// Answers the refusal itself and returns null when the request may not open a session.
    /// </summary>
    private async Task<TokenCheck?> CheckAsync(HttpContext http)
    {
        var token = http.Request.Query.TryGetValue("access_token", out var query) ? query.ToString() : BearerToken(http.Request);
        var caller = await tokens.ValidateAsync(token);
        if (!caller.IsValid)
        {
            await ErrorMapping.WriteProblemAsync(http,
                caller.Expired ? ErrorCode.TokenExpired : ErrorCode.Unauthorized,
                caller.Expired ? "the token has expired; log in again." : "a valid bearer token is required.");
            return null;
        }
        // (Attaching checks again, in the user's grain, against a logout that lands in between.)
        if (await grants.CheckAsync(caller.UserId!, caller.DeviceId!, caller.Generation) is { } refusal)
        {
            var refused = MessengerException.TokenRefused(refusal);
            await ErrorMapping.WriteProblemAsync(http, refused.Code, refused.Message);
            return null;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await ErrorMapping.WriteProblemAsync(http, ErrorCode.InvalidRequest, "this endpoint accepts WebSocket upgrades only.");
            return null;
        }
        return caller;
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}
