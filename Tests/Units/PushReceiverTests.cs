using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Messenger.Tests.Support.Push;

namespace Messenger.Tests.Units;

/// <summary>
/// The receivers the push end-to-end tests rely on, proven over real HTTP: the local push service accepts what a
/// real Web Push sender (Lib.Net.Http.WebPush) sends and refuses what a real push service refuses; the webhook
/// relay accepts exactly the calls signed per the Messenger-Signature format.
/// </summary>
public sealed class PushReceiverTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly HttpClient Http = new();
    private const string Header = """{"typ":"JWT","alg":"ES256"}""";
    private const string Secret = "relay-secret-ü"; // not ASCII, so the secret's UTF-8 encoding is exercised

    // ---- Web Push: what a real sender sends ----

    [Theory]
    [InlineData("""{"type":"message","conversation":"c-1","text":"hi"}""")]
    [InlineData("""{"text":"é ü 你好 🚀 \u0000 \\ \""}""")]
    [InlineData("")]
    public async Task ALibraryPush_IsDecryptedExactly_WithItsDeliveryHeadersAndVapidClaims(string content)
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true; // Lib.Net.Http.WebPush leaves the port out of aud
        using var vapid = new VapidKeys();
        service.ExpectedVapidPublicKey = vapid.PublicKey;
        var device = service.NewDevice();
        var before = DateTimeOffset.UtcNow;

        await PushAsync(device, vapid, new PushMessage(content) { Topic = "conv-42", Urgency = PushMessageUrgency.High, TimeToLive = 60 });

        var push = await device.NextAsync(Wait);
        Assert.Empty(service.Errors);
        Assert.Equal(content, push.Json);
        Assert.Equal(Encoding.UTF8.GetBytes(content), push.Plaintext);
        Assert.Equal(device.Endpoint, push.Endpoint);
        Assert.Equal("conv-42", push.Topic);
        Assert.Equal(60, push.Ttl);
        Assert.Equal("high", push.Urgency);
        Assert.Equal("mailto:ops@example.com", push.VapidSubject);
        // The library's tokens last 12 hours unless told otherwise.
        Assert.InRange(push.VapidExpiry, before.AddHours(12).AddSeconds(-2), DateTimeOffset.UtcNow.AddHours(12).AddSeconds(1));
        Assert.Equal(HttpStatusCode.Created, push.AnsweredWith);
        Assert.InRange(push.ReceivedAt, before, DateTimeOffset.UtcNow);
        Assert.Single(device.Received);
    }

    [Fact]
    public async Task TheLibrarysDefaults_FourWeeksTtl_NoUrgencyHeaderForNormal_NoTopic()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        await PushAsync(device, vapid, new PushMessage("{}"));

        var push = await device.NextAsync(Wait);
        Assert.Empty(service.Errors);
        Assert.Equal(2_419_200, push.Ttl);
        Assert.Null(push.Urgency);
        Assert.Null(push.Topic);
    }

    [Fact]
    public async Task TheLibrarysAudienceLacksThePort_SoAStrictReceiverRefusesIt()
    {
        await using var service = await WebPushReceiver.StartAsync();
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("{}")));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("JWT aud is \"http://127.0.0.1\"", Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task ATokenForTheFullOrigin_IsAcceptedWithoutTheConcession()
    {
        await using var service = await WebPushReceiver.StartAsync();
        using var vapid = new VapidKeys();
        service.ExpectedVapidPublicKey = vapid.PublicKey;
        var device = service.NewDevice();
        var expiry = DateTimeOffset.UtcNow.AddHours(23).ToUnixTimeSeconds();
        var token = vapid.Token(Header, Claims(service.Origin, expiry, "https://ops.example.com/contact"));

        await PushAsync(device, vapid, new PushMessage("{\"n\":1}"), request => SetVapid(request, token, vapid.PublicKey));

        var push = await device.NextAsync(Wait);
        Assert.Empty(service.Errors);
        Assert.Equal("{\"n\":1}", push.Json);
        Assert.Equal("https://ops.example.com/contact", push.VapidSubject);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(expiry), push.VapidExpiry);
    }

    [Fact]
    public void RfcExample_DecryptsToItsPlaintext()
    {
        // RFC 8291 Appendix A: the user agent's keys and auth secret, and the body an application server sent.
        var uaPublic = Base64Url.DecodeFromChars("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
        using var uaKey = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64Url.DecodeFromChars("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"),
            Q = new ECPoint { X = uaPublic[1..33], Y = uaPublic[33..] },
        });
        var body = Base64Url.DecodeFromChars(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_" +
            "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");

        var plaintext = WebPushDecryption.Decrypt(body, uaKey, uaPublic, Base64Url.DecodeFromChars("BTBZMqHH6r4Tts7J_aSIgg"));

        Assert.Equal("When I grow up, I want to be a watermelon", Encoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public async Task NewDevices_LookLikeABrowsersSubscription()
    {
        await using var service = await WebPushReceiver.StartAsync();
        var one = service.NewDevice();
        var other = service.NewDevice();

        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", service.Origin);
        Assert.StartsWith(service.Origin + "/push/", one.Endpoint, StringComparison.Ordinal);
        Assert.NotEqual(one.Endpoint, other.Endpoint);
        var point = Base64Url.DecodeFromChars(one.P256dh);
        Assert.Equal(65, point.Length);
        Assert.Equal(0x04, point[0]);
        Assert.Equal(16, Base64Url.DecodeFromChars(one.Auth).Length);
        Assert.DoesNotContain('=', one.P256dh + one.Auth);
        Assert.NotEqual(one.P256dh, other.P256dh);
        Assert.NotEqual(one.Auth, other.Auth);
    }

    // ---- Web Push: what a real push service refuses ----

    [Fact]
    public async Task AnotherApplicationServerKey_IsRefusedWith403()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var expected = new VapidKeys();
        using var other = new VapidKeys();
        service.ExpectedVapidPublicKey = expected.PublicKey;
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, other, new PushMessage("{}")));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("not the subscription's applicationServerKey", Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task ATamperedBody_FailsDecryption_AndIsRefused()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(
            device, vapid, new PushMessage("{\"amount\":100}"),
            request => ReplaceBodyAsync(request, body => { body[^20] ^= 0x01; return body; })));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("decryption failed", Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Theory]
    [InlineData("expired", "expired at")]
    [InlineData("more than a day ahead", "more than 24 h")]
    [InlineData("for another host", "JWT aud is \"http://localhost:")]
    [InlineData("no port, without the concession", "JWT aud is \"http://127.0.0.1\"")]
    [InlineData("no subject", "JWT sub is missing")]
    [InlineData("subject not a contact URI", "neither a mailto: nor an https: URI")]
    [InlineData("signed with another key", "does not verify")]
    [InlineData("alg HS256", "JWT alg is \"HS256\"")]
    [InlineData("typ other than JWT", "JWT typ is \"JWS\"")]
    [InlineData("DER signature", "not the 64 of ES256")]
    [InlineData("two segments", "2 segments")]
    [InlineData("padded base64", "not unpadded base64url")]
    public async Task BadVapidTokens_AreRefusedWith401(string defect, string reason)
    {
        await using var service = await WebPushReceiver.StartAsync();
        using var vapid = new VapidKeys();
        using var other = new VapidKeys();
        var device = service.NewDevice();
        var port = new Uri(service.Origin).Port;
        var inHalfADay = DateTimeOffset.UtcNow.AddHours(12).ToUnixTimeSeconds();
        var good = Claims(service.Origin, inHalfADay, "mailto:ops@example.com");
        var token = defect switch
        {
            "expired" => vapid.Token(Header, Claims(service.Origin, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), "mailto:ops@example.com")),
            "more than a day ahead" => vapid.Token(Header, Claims(service.Origin, DateTimeOffset.UtcNow.AddHours(25).ToUnixTimeSeconds(), "mailto:ops@example.com")),
            "for another host" => vapid.Token(Header, Claims($"http://localhost:{port}", inHalfADay, "mailto:ops@example.com")),
            "no port, without the concession" => vapid.Token(Header, Claims("http://127.0.0.1", inHalfADay, "mailto:ops@example.com")),
            "no subject" => vapid.Token(Header, Claims(service.Origin, inHalfADay, subject: null)),
            "subject not a contact URI" => vapid.Token(Header, Claims(service.Origin, inHalfADay, "ops@example.com")),
            "signed with another key" => other.Token(Header, good),
            "alg HS256" => vapid.Token("""{"typ":"JWT","alg":"HS256"}""", good),
            "typ other than JWT" => vapid.Token("""{"typ":"JWS","alg":"ES256"}""", good),
            "DER signature" => vapid.Token(Header, good, DSASignatureFormat.Rfc3279DerSequence),
            "two segments" => string.Join('.', vapid.Token(Header, good).Split('.')[..2]),
            "padded base64" => PadClaims(vapid.Token(Header, good)),
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() =>
            PushAsync(device, vapid, new PushMessage("{}"), request => SetVapid(request, token, vapid.PublicKey)));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains(reason, Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task TheOldWebPushAuthScheme_IsRefusedWith401()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() =>
            PushAsync(device, vapid, new PushMessage("{}"), scheme: VapidAuthenticationScheme.WebPush));

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("scheme is 'WebPush', not 'vapid'", Assert.Single(service.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no Authorization", HttpStatusCode.Unauthorized, "no Authorization header")]
    [InlineData("no TTL", HttpStatusCode.BadRequest, "no TTL header")]
    [InlineData("negative TTL", HttpStatusCode.BadRequest, "TTL '-1' is not a non-negative integer")]
    [InlineData("TTL with a unit", HttpStatusCode.BadRequest, "TTL '60s' is not")]
    [InlineData("two TTLs", HttpStatusCode.BadRequest, "TTL '60, 61' is not")]
    [InlineData("aesgcm", HttpStatusCode.UnsupportedMediaType, "Content-Encoding is 'aesgcm'")]
    [InlineData("no Content-Encoding", HttpStatusCode.UnsupportedMediaType, "Content-Encoding is ''")]
    [InlineData("33-character Topic", HttpStatusCode.BadRequest, "is not 1-32 characters")]
    [InlineData("Topic with a dot", HttpStatusCode.BadRequest, "Topic 'conv.42'")]
    [InlineData("unknown Urgency", HttpStatusCode.BadRequest, "Urgency 'urgent'")]
    public async Task BadDeliveryHeaders_AreRefused(string defect, HttpStatusCode status, string reason)
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(
            device, vapid, new PushMessage("{}") { TimeToLive = 60 },
            request =>
            {
                var headers = request.Headers;
                switch (defect)
                {
                    case "no Authorization": headers.Authorization = null; break;
                    case "no TTL": headers.Remove("TTL"); break;
                    case "negative TTL": Replace(headers, "TTL", "-1"); break;
                    case "TTL with a unit": Replace(headers, "TTL", "60s"); break;
                    case "two TTLs": headers.TryAddWithoutValidation("TTL", "61"); break;
                    case "aesgcm": Replace(request.Content!.Headers, "Content-Encoding", "aesgcm"); break;
                    case "no Content-Encoding": request.Content!.Headers.Remove("Content-Encoding"); break;
                    case "33-character Topic": headers.TryAddWithoutValidation("Topic", new string('a', 33)); break;
                    case "Topic with a dot": headers.TryAddWithoutValidation("Topic", "conv.42"); break;
                    case "unknown Urgency": headers.TryAddWithoutValidation("Urgency", "urgent"); break;
                    default: throw new ArgumentOutOfRangeException(nameof(defect));
                }
                return Task.CompletedTask;
            }));

        Assert.Equal(status, refused.StatusCode);
        Assert.Contains(reason, Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Theory]
    [InlineData("empty", HttpStatusCode.BadRequest, "shorter than the aes128gcm header")]
    [InlineData("cut inside the keyid", HttpStatusCode.BadRequest, "ends inside the keyid")]
    [InlineData("keyid length 0", HttpStatusCode.BadRequest, "keyid is 0 bytes")]
    [InlineData("keyid off the curve", HttpStatusCode.BadRequest, "keyid is not a P-256 public key")]
    [InlineData("record size 10", HttpStatusCode.BadRequest, "record size 10 is below the minimum")]
    [InlineData("two records", HttpStatusCode.BadRequest, "more than one record")]
    [InlineData("no room for the tag", HttpStatusCode.BadRequest, "cannot hold a tag")]
    [InlineData("tag cut short", HttpStatusCode.BadRequest, "decryption failed")]
    [InlineData("over 4096 bytes", HttpStatusCode.RequestEntityTooLarge, "over the limit of 4096")]
    public async Task MalformedBodies_AreRefused_NotCrashedOn(string defect, HttpStatusCode status, string reason)
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();

        var refused = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(
            device, vapid, new PushMessage("{\"text\":\"a message long enough to span two small records\"}"),
            request => ReplaceBodyAsync(request, body =>
            {
                switch (defect)
                {
                    case "empty": return [];
                    case "cut inside the keyid": return body[..40];
                    case "keyid length 0": body[20] = 0; return body;
                    case "keyid off the curve": body[30] ^= 0x01; return body;
                    case "record size 10": BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), 10); return body;
                    case "two records": BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(16), 18); return body;
                    case "no room for the tag": return body[..(21 + 65 + 10)];
                    case "tag cut short": return body[..^1];
                    case "over 4096 bytes": return [.. body, .. new byte[4096]];
                    default: throw new ArgumentOutOfRangeException(nameof(defect));
                }
            })));

        Assert.Equal(status, refused.StatusCode);
        Assert.Contains(reason, Assert.Single(service.Errors), StringComparison.Ordinal);
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task RequestsThatAreNoPush_AreRefusedAndListed()
    {
        await using var service = await WebPushReceiver.StartAsync();
        var device = service.NewDevice();

        using var unknown = await Http.PostAsync($"{service.Origin}/push/no-such-device", new ByteArrayContent([1]));
        using var get = await Http.GetAsync(device.Endpoint);
        using var elsewhere = await Http.PostAsync($"{service.Origin}/other", new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Collection(
            service.Errors,
            e => Assert.Equal("POST /push/no-such-device: no such subscription", e),
            e => Assert.EndsWith("push endpoints take POST only", e, StringComparison.Ordinal),
            e => Assert.Equal("POST /other: not a push endpoint", e));
    }

    // ---- Web Push: scripted answers ----

    [Fact]
    public async Task ScriptedAnswers_AreUsedInOrder_ThenCreatedAgain_AndEachPushIsRecordedWithItsAnswer()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();
        device.RespondWith(HttpStatusCode.InternalServerError);
        device.RespondWith(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(30));

        var failed = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("1")));
        var throttled = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("2")));
        await PushAsync(device, vapid, new PushMessage("3"));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        // With AutoRetryAfter off the library hands the 429 back, Retry-After in the exception's response headers.
        Assert.Equal(TimeSpan.FromSeconds(30), throttled.Headers.RetryAfter?.Delta);
        Assert.Equal(("1", HttpStatusCode.InternalServerError), Summary(await device.NextAsync(Wait)));
        Assert.Equal(("2", HttpStatusCode.TooManyRequests), Summary(await device.NextAsync(Wait)));
        Assert.Equal(("3", HttpStatusCode.Created), Summary(await device.NextAsync(Wait)));
        Assert.Empty(service.Errors);
    }

    [Fact]
    public async Task ACreatedPush_GetsALocation()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();
        HttpResponseMessage? response = null;

        await PushAsync(device, vapid, new PushMessage("{}"), observe: r => response = r);

        Assert.Equal(HttpStatusCode.Created, response!.StatusCode);
        Assert.StartsWith(service.Origin + "/message/", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsubscribedDevice_AnswersGone_AndStillRecords()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();
        await PushAsync(device, vapid, new PushMessage("before"));
        device.Unsubscribe();

        var gone = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("after")));
        var stillGone = await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("again")));

        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, stillGone.StatusCode);
        Assert.True(device.IsGone);
        Assert.Equal(
            [("before", HttpStatusCode.Created), ("after", HttpStatusCode.Gone), ("again", HttpStatusCode.Gone)],
            device.Received.Select(Summary));
        Assert.Empty(service.Errors);
    }

    [Fact]
    public async Task NextAsync_ReturnsEachPushOnce_InArrivalOrder_ThenTimesOutNamingTheRefusals()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();
        var waiting = device.NextAsync(Wait); // a wait that starts before the push arrives

        for (var i = 1; i <= 3; i++) await PushAsync(device, vapid, new PushMessage($"{i}"));
        await Assert.ThrowsAsync<PushServiceClientException>(() => PushAsync(device, vapid, new PushMessage("x") { Topic = "not/base64url" }));

        Assert.Equal("1", (await waiting).Json);
        Assert.Equal("2", (await device.NextAsync(Wait)).Json);
        Assert.Equal("3", (await device.NextAsync(Wait)).Json);
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => device.NextAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Contains(device.Endpoint, timeout.Message, StringComparison.Ordinal);
        Assert.Contains("3 received in all, 3 already returned", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("Topic 'not/base64url'", timeout.Message, StringComparison.Ordinal);
        Assert.Equal(["1", "2", "3"], device.Received.Select(p => p.Json));
    }

    [Fact]
    public async Task ConcurrentPushes_AreEachRecordedOnce_AndEachScriptedAnswerUsedOnce()
    {
        await using var service = await WebPushReceiver.StartAsync();
        service.AcceptAudienceWithoutPort = true;
        using var vapid = new VapidKeys();
        var device = service.NewDevice();
        for (var i = 0; i < 5; i++) device.RespondWith(HttpStatusCode.ServiceUnavailable);

        var sends = Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                await PushAsync(device, vapid, new PushMessage($"{i}"));
                return HttpStatusCode.Created;
            }
            catch (PushServiceClientException e)
            {
                return e.StatusCode;
            }
        });
        var statuses = await Task.WhenAll(sends);

        var seen = new List<ReceivedPush>();
        for (var i = 0; i < 20; i++) seen.Add(await device.NextAsync(Wait));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.ServiceUnavailable));
        Assert.Equal(15, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i}").Order(), seen.Select(p => p.Json).Order());
        Assert.Equal(seen.Select(p => p.AnsweredWith), device.Received.Select(p => p.AnsweredWith));
        Assert.Empty(service.Errors);
    }

    // ---- Webhook relay ----

    [Fact]
    public async Task ASignedCall_IsRecorded_WithItsIdAndBody()
    {
        await using var relay = await WebhookReceiver.StartAsync(Secret);
        var body = """{"user":"u-1","kind":"message","text":"héllo"}""";
        var before = DateTimeOffset.UtcNow;

        using var response = await SendWebhookAsync(relay.Url, Secret, body, "n-1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = await relay.NextAsync(Wait);
        Assert.Empty(relay.Errors);
        Assert.Equal("n-1", call.NotificationId);
        Assert.Equal(body, call.Body);
        Assert.Equal("héllo", call.Json.GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.OK, call.AnsweredWith);
        Assert.InRange(call.ReceivedAt, before, DateTimeOffset.UtcNow);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/hook$", relay.Url);
    }

    [Theory]
    [InlineData("wrong secret", "does not match")]
    [InlineData("body changed after signing", "does not match")]
    [InlineData("signed without the timestamp", "does not match")]
    [InlineData("no signature", "no Messenger-Signature header")]
    [InlineData("uppercase hex", "not 64 lowercase hex digits")]
    [InlineData("no t", "lacks t= or v1=")]
    [InlineData("another scheme", "item 'sha256=")]
    [InlineData("six minutes old", "more than 300 s")]
    [InlineData("six minutes ahead", "more than 300 s")]
    public async Task BadSignatures_AreRefusedWith401(string defect, string reason)
    {
        await using var relay = await WebhookReceiver.StartAsync(Secret);
        const string body = """{"n":1}""";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var good = Signature(Secret, now, body);
        var header = defect switch
        {
            "wrong secret" => Signature("another-secret", now, body),
            "body changed after signing" => Signature(Secret, now, """{"n":2}"""),
            "signed without the timestamp" => $"t={now},v1={Hex(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body)))}",
            "no signature" => null,
            "uppercase hex" => good.ToUpperInvariant().Replace("T=", "t=", StringComparison.Ordinal).Replace("V1=", "v1=", StringComparison.Ordinal),
            "no t" => good[good.IndexOf("v1=", StringComparison.Ordinal)..],
            "another scheme" => good.Replace("v1=", "sha256=", StringComparison.Ordinal),
            "six minutes old" => Signature(Secret, now - 360, body),
            "six minutes ahead" => Signature(Secret, now + 360, body),
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };

        using var response = await PostWebhookAsync(relay.Url, body, header, "n-1", "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(reason, Assert.Single(relay.Errors), StringComparison.Ordinal);
        Assert.Empty(relay.Received);
    }

    [Fact]
    public async Task ASignatureFourMinutesOld_IsStillAccepted()
    {
        await using var relay = await WebhookReceiver.StartAsync(Secret);
        const string body = """{"n":1}""";

        using var response = await PostWebhookAsync(
            relay.Url, body, Signature(Secret, DateTimeOffset.UtcNow.AddMinutes(-4).ToUnixTimeSeconds(), body), "n-1", "application/json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("n-1", (await relay.NextAsync(Wait)).NotificationId);
        Assert.Empty(relay.Errors);
    }

    [Theory]
    [InlineData("not JSON", HttpStatusCode.BadRequest, "not UTF-8 JSON")]
    [InlineData("text/plain", HttpStatusCode.UnsupportedMediaType, "not application/json")]
    [InlineData("no notification id", HttpStatusCode.BadRequest, "Messenger-Notification-Id")]
    public async Task SignedButMalformedCalls_AreRefused(string defect, HttpStatusCode status, string reason)
    {
        await using var relay = await WebhookReceiver.StartAsync(Secret);
        var body = defect == "not JSON" ? "{\"n\":" : """{"n":1}""";
        var signature = Signature(Secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);

        using var response = await PostWebhookAsync(
            relay.Url, body, signature, defect == "no notification id" ? null : "n-1", defect == "text/plain" ? "text/plain" : "application/json");

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, Assert.Single(relay.Errors), StringComparison.Ordinal);
        Assert.Empty(relay.Received);
    }

    [Fact]
    public async Task WebhookScriptedAnswers_AreUsedInOrder_WithRetryAfter_ThenOkAgain()
    {
        await using var relay = await WebhookReceiver.StartAsync(Secret);
        relay.RespondWith(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(20));
        relay.RespondWith(HttpStatusCode.InternalServerError);

        using var first = await SendWebhookAsync(relay.Url, Secret, """{"n":1}""", "n-1");
        using var second = await SendWebhookAsync(relay.Url, Secret, """{"n":2}""", "n-2");
        using var third = await SendWebhookAsync(relay.Url, Secret, """{"n":3}""", "n-3");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(20), first.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        Assert.Null(second.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(("n-1", HttpStatusCode.ServiceUnavailable), Summary(await relay.NextAsync(Wait)));
        Assert.Equal(("n-2", HttpStatusCode.InternalServerError), Summary(await relay.NextAsync(Wait)));
        Assert.Equal(("n-3", HttpStatusCode.OK), Summary(await relay.NextAsync(Wait)));
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => relay.NextAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Contains("refused nothing", timeout.Message, StringComparison.Ordinal);
        Assert.Empty(relay.Errors);
    }

    // ---- helpers ----

    /// <summary>An application server's VAPID key pair, in the encodings Lib.Net.Http.WebPush takes.</summary>
    private sealed class VapidKeys : IDisposable
    {
        public VapidKeys()
        {
            var parameters = Key.ExportParameters(includePrivateParameters: true);
            PublicKey = Base64Url.EncodeToString([0x04, .. parameters.Q.X!, .. parameters.Q.Y!]);
            PrivateKey = Base64Url.EncodeToString(parameters.D);
        }

        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public string PublicKey { get; }
        public string PrivateKey { get; }

        /// <summary>A JWT written by hand, to send what the library would not.</summary>
        public string Token(string header, string claims, DSASignatureFormat format = DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        {
            var signed = $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header))}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims))}";
            var signature = Key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, format);
            return $"{signed}.{Base64Url.EncodeToString(signature)}";
        }

        public void Dispose() => Key.Dispose();
    }

    private static string PadClaims(string token)
    {
        var segments = token.Split('.');
        return $"{segments[0]}.{segments[1]}==.{segments[2]}";
    }

    private static string Claims(string audience, long expiry, string? subject)
    {
        var claims = new Dictionary<string, object> { ["aud"] = audience, ["exp"] = expiry };
        if (subject is not null) claims["sub"] = subject;
        return JsonSerializer.Serialize(claims);
    }

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="device"/> with Lib.Net.Http.WebPush as a server would,
    /// letting <paramref name="rewrite"/> change the request on its way out; throws what the library throws.
    /// </summary>
    private static async Task PushAsync(
        WebPushDevice device,
        VapidKeys vapid,
        PushMessage message,
        Func<HttpRequestMessage, Task>? rewrite = null,
        VapidAuthenticationScheme scheme = VapidAuthenticationScheme.Vapid,
        Action<HttpResponseMessage>? observe = null)
    {
        using var http = new HttpClient(new Rewriter(rewrite ?? (_ => Task.CompletedTask), observe ?? (_ => { })));
        var client = new PushServiceClient(http) { AutoRetryAfter = false };
        var subscription = new PushSubscription { Endpoint = device.Endpoint };
        subscription.SetKey(PushEncryptionKeyName.P256DH, device.P256dh);
        subscription.SetKey(PushEncryptionKeyName.Auth, device.Auth);
        using var authentication = new VapidAuthentication(vapid.PublicKey, vapid.PrivateKey) { Subject = "mailto:ops@example.com" };
        await client.RequestPushMessageDeliveryAsync(subscription, message, authentication, scheme);
    }

    private sealed class Rewriter(Func<HttpRequestMessage, Task> rewrite, Action<HttpResponseMessage> observe) : DelegatingHandler(new HttpClientHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await rewrite(request);
            var response = await base.SendAsync(request, cancellationToken);
            observe(response);
            return response;
        }
    }

    private static Task SetVapid(HttpRequestMessage request, string token, string publicKey)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("vapid", $"t={token}, k={publicKey}");
        return Task.CompletedTask;
    }

    private static async Task ReplaceBodyAsync(HttpRequestMessage request, Func<byte[], byte[]> change)
    {
        var original = request.Content!;
        var replaced = new ByteArrayContent(change(await original.ReadAsByteArrayAsync()));
        foreach (var header in original.Headers.Where(h => h.Key != "Content-Length"))
        {
            replaced.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        request.Content = replaced;
    }

    private static void Replace(HttpHeaders headers, string name, string value)
    {
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    }

    private static (string, HttpStatusCode) Summary(ReceivedPush push) => (push.Json, push.AnsweredWith);

    private static (string, HttpStatusCode) Summary(ReceivedWebhook call) => (call.NotificationId, call.AnsweredWith);

    /// <summary>The Messenger-Signature header, computed here from the format rather than by the receiver's code.</summary>
    private static string Signature(string secret, long unixSeconds, string body)
    {
        var message = Encoding.UTF8.GetBytes($"{unixSeconds}.{body}");
        return $"t={unixSeconds},v1={Hex(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message))}";
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static Task<HttpResponseMessage> SendWebhookAsync(string url, string secret, string body, string id) =>
        PostWebhookAsync(url, body, Signature(secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body), id, "application/json");

    private static async Task<HttpResponseMessage> PostWebhookAsync(string url, string body, string? signature, string? id, string contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (signature is not null) request.Headers.TryAddWithoutValidation("Messenger-Signature", signature);
        if (id is not null) request.Headers.TryAddWithoutValidation("Messenger-Notification-Id", id);
        return await Http.SendAsync(request);
    }
}
