using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Messenger.Testing;

namespace Messenger.Tests.Support.Push;

/// <summary>
/// An operator's relay service on loopback: takes the server's webhook POSTs at <see cref="Url"/>, accepts one
/// only if its <c>Messenger-Signature</c> proves it came from a holder of the shared secret, recently, and
/// records it. Whatever it refuses is answered 4xx and listed in <see cref="Errors"/>.
/// </summary>
/// <remarks>
/// The format it checks: <c>Messenger-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>, where the hex is the
/// lowercase HMAC-SHA256, keyed with the UTF-8 secret, of the UTF-8 text <c>"&lt;t&gt;."</c> followed by the raw
/// body bytes; <c>t</c> must be within <see cref="WebhookSignatureCheck.Tolerance"/> of now (checked by <see cref="WebhookSignatureCheck"/>). <c>Messenger-Notification-Id</c> names
/// the notification and the body is JSON (<c>Content-Type: application/json</c>).
/// </remarks>
public sealed class WebhookReceiver : IAsyncDisposable
{
    /// <summary>Bodies larger than this are refused with 413.</summary>
    public const int MaxBodyBytes = 1 << 20;

    private const string HookPath = "/hook";

    private readonly byte[] _secret;
    private readonly Inbox<ReceivedWebhook> _inbox;
    private readonly RefusalLog _refusals = new("webhook receiver");
    private WebApplication? _app;

    private WebhookReceiver(string secret)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        _inbox = new Inbox<ReceivedWebhook>("webhook receiver");
    }

    /// <summary>Starts a relay on <c>http://127.0.0.1:{free port}/hook</c> that accepts calls signed with <paramref name="secret"/>.</summary>
    public static async Task<WebhookReceiver> StartAsync(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var receiver = new WebhookReceiver(secret);
        (receiver._app, var origin) = await LoopbackHttp.StartAsync(receiver.HandleAsync, receiver._refusals);
        receiver.Url = origin + HookPath;
        return receiver;
    }

    /// <summary>Where the server is to POST: <c>http://127.0.0.1:{port}/hook</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Why each refused request was refused, in order; empty when every request was valid.</summary>
    public IReadOnlyList<string> Errors => _refusals.Snapshot();

    /// <summary>Every validly signed call so far, in arrival order, whatever it was answered with.</summary>
    public IReadOnlyList<ReceivedWebhook> Received => _inbox.Received;

    /// <summary>
    /// Answers the next validly signed call not already answered by an earlier call with <paramref name="status"/>
    /// (and a Retry-After of <paramref name="retryAfter"/>, in whole seconds, if given). Calls queue up, first in
    /// first out; once they are used up, valid calls get 200 OK again.
    /// </summary>
    public void RespondWith(HttpStatusCode status, TimeSpan? retryAfter = null) => _inbox.Script(status, retryAfter);

    /// <summary>
    /// The next recorded call that no earlier call returned, in arrival order; waits up to <paramref name="timeout"/>
    /// for one, then throws <see cref="TimeoutException"/> listing the refused requests.
    /// </summary>
    public Task<ReceivedWebhook> NextAsync(TimeSpan timeout) => _inbox.NextAsync(timeout, _refusals.Describe);

    /// <summary>Stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var answer = await AcceptAsync(context.Request);
        await LoopbackHttp.AnswerAsync(context.Response, answer.Status, answer.RetryAfter, "");
    }

    private async Task<ScriptedAnswer> AcceptAsync(HttpRequest request)
    {
        if (request.Path != HookPath) throw new Rejection(HttpStatusCode.NotFound, $"not the hook path {HookPath}");
        if (!HttpMethods.IsPost(request.Method)) throw new Rejection(HttpStatusCode.MethodNotAllowed, "the hook takes POST only");

        var body = await LoopbackHttp.ReadBodyAsync(request, MaxBodyBytes);
        // The signature comes first: nothing else about an unauthenticated call is worth reporting.
        if (WebhookSignatureCheck.Problem(request.Headers["Messenger-Signature"], body, _secret, DateTimeOffset.UtcNow) is { } problem)
        {
            throw Unauthorized(problem);
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !string.Equals(contentType.MediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new Rejection(HttpStatusCode.UnsupportedMediaType, $"Content-Type is '{request.ContentType}', not application/json");
        }
        var ids = request.Headers["Messenger-Notification-Id"];
        if (ids.Count != 1 || string.IsNullOrWhiteSpace(ids[0]))
        {
            throw new Rejection(HttpStatusCode.BadRequest, $"expected one non-empty Messenger-Notification-Id header, got {ids.Count}");
        }
        string text;
        JsonElement json;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body);
            using var document = JsonDocument.Parse(body);
            json = document.RootElement.Clone();
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new Rejection(HttpStatusCode.BadRequest, $"body is not UTF-8 JSON ({e.Message})");
        }

        return _inbox.Accept(
            status => new ReceivedWebhook(ids[0]!, text, json, status, DateTimeOffset.UtcNow),
            fallback: new ScriptedAnswer(HttpStatusCode.OK, null));
    }

    private static Rejection Unauthorized(string reason) => new(HttpStatusCode.Unauthorized, reason);
}
