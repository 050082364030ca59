using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Messenger.Tests.Support.Push;

/// <summary>
/// A Web Push service on loopback, standing in for a browser vendor's: it hands out subscriptions
/// (<see cref="NewDevice"/>) and accepts a push only as a real one does (RFC 8030 delivery headers, RFC 8292
/// VAPID, RFC 8291 encryption), decrypting it for the test to read. Whatever it refuses is answered 4xx and
/// listed in <see cref="Errors"/>, so a test can assert the sender made no mistake.
/// </summary>
public sealed class WebPushReceiver : IAsyncDisposable
{
    /// <summary>The payload size push services promise to carry (RFC 8030 section 7.2); larger ones get 413.</summary>
    public const int MaxBodyBytes = 4096;

    private const string PushPathPrefix = "/push/";
    private static readonly HashSet<string> Urgencies = new(StringComparer.Ordinal) { "very-low", "low", "normal", "high" };

    private readonly ConcurrentDictionary<string, WebPushDevice> _devices = new(StringComparer.Ordinal);
    private readonly RefusalLog _refusals = new("push service");
    private WebApplication? _app;

    private WebPushReceiver()
    {
    }

    /// <summary>Starts a push service on <c>http://127.0.0.1:{free port}</c>.</summary>
    public static async Task<WebPushReceiver> StartAsync()
    {
        var receiver = new WebPushReceiver();
        (receiver._app, receiver.Origin) = await LoopbackHttp.StartAsync(receiver.HandleAsync, receiver._refusals);
        return receiver;
    }

    /// <summary>The service's origin, <c>http://127.0.0.1:{port}</c>: what a VAPID token's <c>aud</c> must be.</summary>
    public string Origin { get; private set; } = "";

    /// <summary>When set, a push whose VAPID <c>k=</c> is another key is refused with 403, as for a subscription made with this applicationServerKey.</summary>
    public string? ExpectedVapidPublicKey { get; set; }

    /// <summary>
    /// Also accept a VAPID <c>aud</c> of <c>http://127.0.0.1</c>, without the port. Lib.Net.Http.WebPush 3.3.1
    /// builds <c>aud</c> from the endpoint's scheme and host only; against a real push service on port 443 that is
    /// the origin, but against this one, on another port, it is not. Scheme and host are still checked.
    /// </summary>
    public bool AcceptAudienceWithoutPort { get; set; }

    /// <summary>Why each refused request was refused, in order; empty when every request was valid.</summary>
    public IReadOnlyList<string> Errors => _refusals.Snapshot();

    /// <summary>A new subscription, as a browser's PushManager.subscribe() makes: fresh P-256 key pair, fresh auth secret.</summary>
    public WebPushDevice NewDevice()
    {
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var device = new WebPushDevice(
            id,
            $"{Origin}{PushPathPrefix}{id}",
            ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256),
            RandomNumberGenerator.GetBytes(16),
            _refusals.Describe);
        _devices[id] = device;
        return device;
    }

    /// <summary>Stops listening, then releases the devices' keys.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        foreach (var device in _devices.Values) device.ReleaseKey();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var (device, answer) = await AcceptAsync(context.Request);
        if (answer.Status == HttpStatusCode.Created)
        {
            // RFC 8030 section 5: the push message resource, which a real service would let the sender delete.
            context.Response.Headers.Location = $"{Origin}/message/{device.Id}/{Guid.NewGuid():N}";
        }
        await LoopbackHttp.AnswerAsync(context.Response, answer.Status, answer.RetryAfter, "");
    }

    /// <summary>Checks a push as a push service would; a valid one is recorded on its device and given its answer.</summary>
    private async Task<(WebPushDevice Device, ScriptedAnswer Answer)> AcceptAsync(HttpRequest request)
    {
        if (!request.Path.StartsWithSegments(PushPathPrefix.TrimEnd('/'), out var rest) || rest.Value is not { Length: > 1 } idPath)
        {
            throw new Rejection(HttpStatusCode.NotFound, "not a push endpoint");
        }
        if (!HttpMethods.IsPost(request.Method)) throw new Rejection(HttpStatusCode.MethodNotAllowed, "push endpoints take POST only");
        if (!_devices.TryGetValue(idPath[1..], out var device)) throw new Rejection(HttpStatusCode.NotFound, "no such subscription");

        var audiences = AcceptAudienceWithoutPort ? new[] { Origin, "http://127.0.0.1" } : [Origin];
        var vapid = VapidCheck.Verify(SingleHeader(request, "Authorization"), audiences, DateTimeOffset.UtcNow);
        if (ExpectedVapidPublicKey is { } expected && !SameKey(expected, vapid.PublicKeyBytes))
        {
            throw new Rejection(HttpStatusCode.Forbidden, $"VAPID k={vapid.PublicKey} is not the subscription's applicationServerKey {expected}");
        }

        var ttlText = SingleHeader(request, "TTL") ?? throw new Rejection(HttpStatusCode.BadRequest, "no TTL header");
        if (!int.TryParse(ttlText, NumberStyles.None, CultureInfo.InvariantCulture, out var ttl))
        {
            throw new Rejection(HttpStatusCode.BadRequest, $"TTL '{ttlText}' is not a non-negative integer");
        }
        var encoding = SingleHeader(request, "Content-Encoding");
        if (!string.Equals(encoding, "aes128gcm", StringComparison.OrdinalIgnoreCase))
        {
            throw new Rejection(HttpStatusCode.UnsupportedMediaType, $"Content-Encoding is '{encoding}', not aes128gcm");
        }
        var topic = SingleHeader(request, "Topic");
        // RFC 8030 section 5.4: only the alphabet counts; a topic is a label, never decoded.
        if (topic is not null && (topic.Length is 0 or > 32 || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new Rejection(HttpStatusCode.BadRequest, $"Topic '{topic}' is not 1-32 characters of the base64url alphabet");
        }
        var urgency = SingleHeader(request, "Urgency");
        if (urgency is not null && !Urgencies.Contains(urgency))
        {
            throw new Rejection(HttpStatusCode.BadRequest, $"Urgency '{urgency}' is not very-low, low, normal or high");
        }

        var body = await LoopbackHttp.ReadBodyAsync(request, MaxBodyBytes);
        var plaintext = device.Decrypt(body);
        var answer = device.Accept(status => new ReceivedPush(
            device.Endpoint,
            plaintext,
            Encoding.UTF8.GetString(plaintext),
            topic,
            ttl,
            urgency,
            vapid.Subject,
            vapid.Expiry,
            status,
            DateTimeOffset.UtcNow));
        return (device, answer);
    }

    /// <summary>The header's one value; null if absent; a request that repeats it is refused.</summary>
    private static string? SingleHeader(HttpRequest request, string name)
    {
        var values = request.Headers[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw new Rejection(HttpStatusCode.BadRequest, $"{name} header given {values.Count} times"),
        };
    }

    private static bool SameKey(string expected, byte[] actual)
    {
        try
        {
            return Base64Url.DecodeFromChars(expected.TrimEnd('=')).AsSpan().SequenceEqual(actual);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
