using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Messenger.Bench.Driver;
using Messenger.Testing;

namespace Messenger.Bench.Push;

/// <summary>One notification as the receiver took it (the first time its id came).</summary>
/// <param name="SentAtUnixUs">The notification's <c>sentAt</c>: when the server accepted the newest message it stands for.</param>
/// <param name="ReceivedUnixUs">When its request reached the receiver, on the same wall clock as <c>sentAt</c> (one machine).</param>
/// <param name="ReceivedUs">The same moment on the bench's monotonic clock (<see cref="Clock.NowUs"/>), to place it in a step.</param>
public readonly record struct ReceivedNotification(string UserId, string ConversationId, long Seq, int Count, long SentAtUnixUs,
    long ReceivedUnixUs, long ReceivedUs);

/// <summary>
/// The operator's webhook, inside the bench: Kestrel on a free loopback port taking the server's signed POSTs.
/// Each request's <c>Messenger-Signature</c> is checked (<see cref="WebhookSignatureCheck"/>, as the tests do); a bad one is counted and refused with 401. A good one is
/// recorded once per notification id; the same id again counts as a duplicate and is answered 200 like the
/// first, so the server never retries because of the bench.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private const string HookPath = "/hook";

    private readonly byte[] _secret;
    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
    private readonly List<ReceivedNotification> _received = [];
    private readonly ConcurrentQueue<string> _problems = new();
    private WebApplication? _app;
    private long _requests, _duplicates, _badSignatures, _malformed, _covered, _lastReceivedUs;

    private readonly TimeSpan _latency;

    private WebhookReceiver(string secret, TimeSpan latency)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        _latency = latency;
    }

    /// <summary>Where the server is to POST.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Requests of any kind so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>Validly signed requests whose notification id had come before.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);
    /// <summary>Requests refused for their signature (missing, malformed, stale or wrong).</summary>
    public long BadSignatures => Interlocked.Read(ref _badSignatures);
    /// <summary>Validly signed requests whose body or id header was not what the protocol says.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);
    /// <summary>Messages the unique notifications stand for, summed over their <c>count</c>.</summary>
    public long Covered => Interlocked.Read(ref _covered);
    /// <summary>When the last unique notification came (<see cref="Clock.NowUs"/>), 0 before the first.</summary>
    public long LastReceivedUs => Interlocked.Read(ref _lastReceivedUs);

    /// <summary>The first few reasons a request was refused.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    public int Unique
    {
        get { lock (_received) return _received.Count; }
    }

    /// <summary>
    /// Starts listening on <c>http://127.0.0.1:{free port}/hook</c> for requests signed with <paramref name="secret"/>,
    /// answering each after <paramref name="latency"/> (a relay's own round trip to APNs or FCM).
    /// </summary>
    public static async Task<WebhookReceiver> StartAsync(string secret, TimeSpan latency)
    {
        var receiver = new WebhookReceiver(secret, latency);
        var port = ServerProbe.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver._app = app;
        receiver.Url = new Uri($"http://127.0.0.1:{port}{HookPath}");
        return receiver;
    }

    /// <summary>Every unique notification so far, in arrival order.</summary>
    public ReceivedNotification[] Snapshot()
    {
        lock (_received) return [.. _received];
    }

    private async Task HandleAsync(HttpContext context)
    {
        // Arrival is when the request reached us: the body of a notification comes in the headers' packet.
        var receivedUs = Clock.NowUs();
        var receivedUnixUs = UnixUs(DateTimeOffset.UtcNow);
        Interlocked.Increment(ref _requests);
        var request = context.Request;
        if (request.Path != HookPath || !HttpMethods.IsPost(request.Method))
        {
            Refuse(ref _malformed, $"{request.Method} {request.Path}: not a POST to {HookPath}");
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var body = await ReadBodyAsync(request);
        if (WebhookSignatureCheck.Problem(request.Headers["Messenger-Signature"], body, _secret, DateTimeOffset.UtcNow) is { } problem)
        {
            Refuse(ref _badSignatures, problem);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        if (!TryParse(body, receivedUnixUs, receivedUs, out var id, out var notification)
            || request.Headers["Messenger-Notification-Id"].ToString() != id)
        {
            Refuse(ref _malformed, $"body or Messenger-Notification-Id not as the protocol says: {Encoding.UTF8.GetString(body)}");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (_ids.TryAdd(id, 0))
        {
            lock (_received) _received.Add(notification);
            Interlocked.Add(ref _covered, notification.Count);
            Interlocked.Exchange(ref _lastReceivedUs, receivedUs);
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }
        if (_latency > TimeSpan.Zero) await Task.Delay(_latency);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private void Refuse(ref long counter, string reason)
    {
        Interlocked.Increment(ref counter);
        if (_problems.Count < 5) _problems.Enqueue(reason);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is { } length and <= 1 << 20)
        {
            var buffer = new byte[length];
            await request.Body.ReadExactlyAsync(buffer);
            return buffer;
        }
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// Reads <c>{"id","userId",…,"notification":{"conversationId","seq","sentAt","count",…}}</c>; false when
    /// something the bench needs is missing.
    /// </summary>
    private static bool TryParse(byte[] body, long receivedUnixUs, long receivedUs, out string? id, out ReceivedNotification notification)
    {
        id = null;
        notification = default;
        string? userId = null, conversationId = null;
        long seq = 0, count = 0, sentAtUs = 0;
        try
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                var depth = reader.CurrentDepth;
                if (depth == 1)
                {
                    if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = reader.GetString(); }
                    else if (reader.ValueTextEquals("userId"u8)) { reader.Read(); userId = reader.GetString(); }
                }
                else if (depth == 2)
                {
                    if (reader.ValueTextEquals("conversationId"u8)) { reader.Read(); conversationId = reader.GetString(); }
                    else if (reader.ValueTextEquals("seq"u8)) { reader.Read(); seq = reader.GetInt64(); }
                    else if (reader.ValueTextEquals("count"u8)) { reader.Read(); count = reader.GetInt64(); }
                    else if (reader.ValueTextEquals("sentAt"u8)) { reader.Read(); sentAtUs = UnixUs(reader.GetDateTimeOffset()); }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
        if (id is null || userId is null || conversationId is null || seq < 1 || count < 1 || sentAtUs == 0) return false;
        notification = new ReceivedNotification(userId, conversationId, seq, (int)count, sentAtUs, receivedUnixUs, receivedUs);
        return true;
    }

    private static long UnixUs(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
