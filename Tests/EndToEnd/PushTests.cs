using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Messenger.Client;
using Messenger.Tests.Support;
using Messenger.Tests.Support.Push;

namespace Messenger.Tests.EndToEnd;

/// <summary>A gateway whose notifications go to a local Web Push service and a local webhook relay.</summary>
public sealed class PushFixture : IAsyncLifetime
{
    public const string Secret = "relay-secret-0123456789";

    public WebPushReceiver WebPush { get; private set; } = null!;
    public WebhookReceiver Webhook { get; private set; } = null!;
    public ServerProcess Server { get; private set; } = null!;
    public Uri Url => Server.BaseAddress;

    public async Task InitializeAsync()
    {
        WebPush = await WebPushReceiver.StartAsync();
        Webhook = await WebhookReceiver.StartAsync(Secret);
        Server = await ServerProcess.StartAsync(null, Settings(Webhook.Url));
        // Lib.Net.Http.WebPush names the audience by scheme and host only (no port): the same origin for push
        // services on 443; the local service listens elsewhere.
        WebPush.AcceptAudienceWithoutPort = true;
        using var http = new HttpClient { BaseAddress = Url };
        var user = await Chat.NewUserAsync(Url);
        using var client = Chat.Http(Url, user.Sessions[0]);
        WebPush.ExpectedVapidPublicKey = (await client.GetPushConfigAsync()).VapidPublicKey;
    }

    /// <summary>Short delays, so the tests do not wait long; the local services are plain http.</summary>
    public static string[] Settings(string webhookUrl, string delay = "00:00:01") =>
    [
        $"--Push:Delay={delay}", "--Push:InsecureHosts:0=127.0.0.1", "--Push:RetryDelay=00:00:00.200",
        $"--Push:Webhooks:relay:Url={webhookUrl}", $"--Push:Webhooks:relay:Secret={Secret}", "--Push:ScanInterval=00:00:01",
    ];

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await WebPush.DisposeAsync();
        await Webhook.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PushCollection : ICollectionFixture<PushFixture>
{
    public const string Name = "gateway with push receivers";
}

/// <summary>Push notifications through the real server, to real HTTP receivers (docs/PROTOCOL.md 4.18).</summary>
[Collection(PushCollection.Name)]
public sealed class PushTests(PushFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private async Task<(ChatUser Alice, ChatUser Bob, string Conversation, MessengerHttpClient AliceHttp, MessengerHttpClient BobHttp)> PairAsync()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        return (alice, bob, conversation, Chat.Http(fixture.Url, alice.Sessions[0]), Chat.Http(fixture.Url, bob.Sessions[0]));
    }

    internal static async Task<IReadOnlyList<PushStatus>> FinalStatesAsync(MessengerHttpClient http, string conversation, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var statuses = await http.GetPushStatusesAsync(conversation);
            if (statuses.Count == count && statuses.All(s => s.State != "pending")) return statuses;
            if (DateTime.UtcNow > deadline) Assert.Fail($"push states did not settle: {string.Join(", ", statuses.Select(s => $"{s.Seq}:{s.State}:{s.Detail}"))}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task OfflineUser_GetsOneWebPushPerBurst_EncryptedAndSigned_ContentFree()
    {
        var (alice, bob, conversation, aliceHttp, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        var subscription = await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        Assert.Equal(("webPush", device.Endpoint, true), (subscription.Kind, subscription.Endpoint, subscription.Current));

        // One burst: sent at once, so all three are waiting when the first one's delay is over.
        await Task.WhenAll(Enumerable.Range(1, 3).Select(i => aliceHttp.SendAsync(conversation, $"burst-{i}", $"secret text {i}")));

        var push = await device.NextAsync(Wait);
        var statuses = await FinalStatesAsync(bobHttp, conversation, 3);
        Assert.Equal(["collapsed", "collapsed", "sent"], statuses.Select(s => s.State));
        Assert.Single(device.Received);
        var n = JsonDocument.Parse(push.Json).RootElement;
        Assert.Equal(statuses[2].NotificationId, n.GetProperty("id").GetString());
        Assert.Equal((conversation, 3L, alice.Id, 3, 3L), (n.GetProperty("conversationId").GetString(), n.GetProperty("seq").GetInt64(),
            n.GetProperty("senderId").GetString(), n.GetProperty("count").GetInt32(), n.GetProperty("unread").GetInt64()));
        Assert.False(n.TryGetProperty("preview", out _), "content-free by default");
        Assert.DoesNotContain("secret text", push.Json, StringComparison.Ordinal);
        Assert.Equal((86400, "high", "mailto:postmaster@localhost"), (push.Ttl, push.Urgency, push.VapidSubject));
        Assert.Matches("^[A-Za-z0-9_-]{32}$", push.Topic);
        Assert.Empty(fixture.WebPush.Errors);

        // A second burst in the conversation is another notification, with the same topic (the service keeps the newest).
        await aliceHttp.SendAsync(conversation, "burst-4", "later");
        var second = await device.NextAsync(Wait);
        Assert.Equal(push.Topic, second.Topic);
        Assert.NotEqual(n.GetProperty("id").GetString(), JsonDocument.Parse(second.Json).RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task LiveDevice_ReceivesTheMessage_AndNoPushIsSent()
    {
        var (_, bob, conversation, aliceHttp, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        await using var live = await Chat.ConnectAsync(fixture.Url, bob.Sessions[0]);

        await aliceHttp.SendAsync(conversation, "live-1", "you are online");

        await Chat.CollectMessagesAsync(live, conversation, 1);
        Assert.Equal(["delivered"], (await FinalStatesAsync(bobHttp, conversation, 1)).Select(s => s.State));
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task MutedConversation_SendsNone_AndAPollingDeviceCountsAsLive()
    {
        var (_, _, conversation, aliceHttp, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        await bobHttp.MuteAsync(conversation);

        await aliceHttp.SendAsync(conversation, "muted-1", "shh");
        Assert.Equal(["muted"], (await FinalStatesAsync(bobHttp, conversation, 1)).Select(s => s.State));

        await bobHttp.UnmuteAsync(conversation);
        var poll = bobHttp.PollAsync((await bobHttp.SyncAsync(0)).UserSeq, wait: TimeSpan.FromSeconds(20));
        await aliceHttp.SendAsync(conversation, "polled-1", "over long-poll");
        Assert.Single((await poll).Updates);
        Assert.Equal(["muted", "delivered"], (await FinalStatesAsync(bobHttp, conversation, 2)).Select(s => s.State));
        Assert.Empty(device.Received);
    }

    [Fact]
    public async Task ServerErrorThenTooManyRequests_AreRetried_WithTheSameId_RespectingRetryAfter()
    {
        var (_, _, conversation, aliceHttp, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        device.RespondWith(HttpStatusCode.InternalServerError);
        device.RespondWith(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2));

        await aliceHttp.SendAsync(conversation, "retry-1", "hello");

        var first = await device.NextAsync(Wait);
        var second = await device.NextAsync(Wait);
        var third = await device.NextAsync(Wait);
        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.TooManyRequests, HttpStatusCode.Created],
            [first.AnsweredWith, second.AnsweredWith, third.AnsweredWith]);
        Assert.Single(new[] { first.Json, second.Json, third.Json }.Distinct());
        Assert.True(third.ReceivedAt - second.ReceivedAt >= TimeSpan.FromSeconds(1.9), $"retried after {third.ReceivedAt - second.ReceivedAt}, Retry-After was 2 s");
        var status = Assert.Single(await FinalStatesAsync(bobHttp, conversation, 1));
        Assert.Equal(("sent", 3), (status.State, status.Attempts));
    }

    [Fact]
    public async Task GoneSubscription_IsRemoved_AndTheNotificationFails()
    {
        var (_, _, conversation, aliceHttp, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        device.Unsubscribe();

        await aliceHttp.SendAsync(conversation, "gone-1", "anyone?");

        Assert.Equal(HttpStatusCode.Gone, (await device.NextAsync(Wait)).AnsweredWith);
        var status = Assert.Single(await FinalStatesAsync(bobHttp, conversation, 1));
        Assert.Equal("failed", status.State);
        Assert.Contains("410", status.Detail);
        Assert.Empty(await bobHttp.ListPushSubscriptionsAsync());
        // With no subscription left, later messages make no notification at all.
        await aliceHttp.SendAsync(conversation, "gone-2", "still there?");
        await aliceHttp.SendAsync(conversation, "gone-3", "hello?");
        Assert.Single(await bobHttp.GetPushStatusesAsync(conversation));
    }

    [Fact]
    public async Task Webhook_GetsASignedBody_WithTheDevicesToken_AndThePreviewOnlyWhenTurnedOn()
    {
        var (alice, bob, conversation, aliceHttp, bobHttp) = await PairAsync();
        var subscription = await bobHttp.SubscribeWebhookAsync("relay", "apns-token-123");
        Assert.Equal(("webhook", "relay", (string?)null), (subscription.Kind, subscription.Target, subscription.Endpoint));

        await aliceHttp.SendAsync(conversation, "hook-1", "the first message");
        var hook = await NextWebhookForAsync(bob.Id);
        Assert.Equal((bob.Id, bob.Sessions[0].DeviceId, "apns-token-123"), (hook.Json.GetProperty("userId").GetString(),
            hook.Json.GetProperty("deviceId").GetString(), hook.Json.GetProperty("token").GetString()));
        var notification = hook.Json.GetProperty("notification");
        Assert.Equal(hook.NotificationId, hook.Json.GetProperty("id").GetString());
        Assert.Equal(hook.NotificationId, notification.GetProperty("id").GetString());
        Assert.Equal((alice.Id, 1L), (notification.GetProperty("senderId").GetString(), notification.GetProperty("seq").GetInt64()));
        Assert.False(notification.TryGetProperty("preview", out _));

        Assert.True((await bobHttp.SetPushSettingsAsync(preview: true)).Preview);
        await aliceHttp.SendAsync(conversation, "hook-2", new string('x', 150));
        var withPreview = (await NextWebhookForAsync(bob.Id)).Json.GetProperty("notification");
        Assert.Equal(new string('x', 100) + "…", withPreview.GetProperty("preview").GetString());
        Assert.Empty(fixture.Webhook.Errors);
    }

    private async Task<ReceivedWebhook> NextWebhookForAsync(string userId)
    {
        // The relay is shared by the tests of this class: take the next call for this user.
        while (true)
        {
            var hook = await fixture.Webhook.NextAsync(Wait);
            if (hook.Json.GetProperty("userId").GetString() == userId) return hook;
        }
    }

    [Fact]
    public async Task BadSubscriptions_AreRefusedWithClearErrors_AndChangeNothing()
    {
        var (_, _, _, _, bobHttp) = await PairAsync();
        var device = fixture.WebPush.NewDevice();
        await bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        var offCurve = Convert.ToBase64String([4, .. new byte[64]]).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var cases = new (Func<Task> Call, string Field)[]
        {
            (() => bobHttp.SubscribeWebPushAsync("http://push.example.com/x", device.P256dh, device.Auth), "https"),
            (() => bobHttp.SubscribeWebPushAsync("not a url", device.P256dh, device.Auth), "webPush.endpoint"),
            (() => bobHttp.SubscribeWebPushAsync("https://push.example.com/" + new string('a', 2048), device.P256dh, device.Auth), "2048"),
            (() => bobHttp.SubscribeWebPushAsync("https://10.1.2.3/push/x", device.P256dh, device.Auth), "internet"),
            (() => bobHttp.SubscribeWebPushAsync("https://localhost:8443/push/x", device.P256dh, device.Auth), "internet"),
            (() => bobHttp.SubscribeWebPushAsync("https://[::1]/push/x", device.P256dh, device.Auth), "internet"),
            (() => bobHttp.SubscribeWebPushAsync(device.Endpoint, offCurve, device.Auth), "p256dh"),
            (() => bobHttp.SubscribeWebPushAsync(device.Endpoint, "short", device.Auth), "p256dh"),
            (() => bobHttp.SubscribeWebPushAsync(device.Endpoint, device.P256dh, "AAAA"), "auth"),
            (() => bobHttp.SubscribeWebhookAsync("nowhere", "token"), "nowhere"),
            (() => bobHttp.SubscribeWebhookAsync("relay", new string('t', 4097)), "4096"),
        };
        foreach (var (call, field) in cases)
        {
            var error = await Assert.ThrowsAsync<MessengerClientException>(call);
            Assert.Equal((400, "invalid_subscription"), (error.HttpStatus, error.Code));
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
        }
        using var raw = new HttpClient { BaseAddress = fixture.Url };
        raw.DefaultRequestHeaders.Authorization = new("Bearer", (await Chat.NewUserAsync(fixture.Url)).Sessions[0].Token);
        var neither = await raw.PutAsJsonAsync("/v1/push/subscription", new { });
        Assert.Equal(HttpStatusCode.BadRequest, neither.StatusCode);
        Assert.Contains("invalid_subscription", await neither.Content.ReadAsStringAsync());

        var kept = Assert.Single(await bobHttp.ListPushSubscriptionsAsync());
        Assert.Equal(device.Endpoint, kept.Endpoint);
    }

    [Fact]
    public async Task Subscriptions_AreListedPerDevice_DeletedOnRequest_AndGoWithALogout()
    {
        var bob = await Chat.NewUserAsync(fixture.Url, devices: 3);
        var https = bob.Sessions.Select(s => Chat.Http(fixture.Url, s)).ToList();
        foreach (var http in https)
        {
            var device = fixture.WebPush.NewDevice();
            await http.SubscribeWebPushAsync(device.Endpoint, device.P256dh, device.Auth);
        }
        Assert.Equal(bob.Sessions.Select(s => s.DeviceId).Order(), (await https[0].ListPushSubscriptionsAsync()).Select(s => s.DeviceId));

        await https[0].UnsubscribePushAsync(bob.Sessions[1].DeviceId);
        await https[2].LogOutAsync();
        Assert.Equal([bob.Sessions[0].DeviceId], (await https[0].ListPushSubscriptionsAsync()).Select(s => s.DeviceId));
        var missing = await Assert.ThrowsAsync<MessengerClientException>(() => https[1].UnsubscribePushAsync());
        Assert.Equal((404, "subscription_not_found"), (missing.HttpStatus, missing.Code));
        await https[0].UnsubscribePushAsync();
        Assert.Empty(await https[0].ListPushSubscriptionsAsync());
    }
}

/// <summary>Notifications survive a crash of the server between a message's commit and its push (the outbox).</summary>
public sealed class PushCrashTests
{
    [Theory]
    [InlineData(GatewayStorage.Sqlite)]
    [InlineData(GatewayStorage.Postgres)]
    public async Task KillDashNine_AfterTheCommit_BeforeThePush_TheNotificationComesAfterTheRestart_ExactlyOnce(string backend)
    {
        await using var webhook = await WebhookReceiver.StartAsync(PushFixture.Secret);
        await using var storage = await GatewayStorage.CreateAsync(backend);
        // A long delay: the kill comes after the ack and well before the notification is due.
        var settings = PushFixture.Settings(webhook.Url, delay: "00:00:05");
        ChatUser alice, bob;
        string conversation;
        Ack ack;
        await using (var server = await storage.StartGatewayAsync(settings))
        {
            alice = await Chat.NewUserAsync(server.BaseAddress);
            bob = await Chat.NewUserAsync(server.BaseAddress);
            conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
            using var bobHttp = Chat.Http(server.BaseAddress, bob.Sessions[0]);
            await bobHttp.SubscribeWebhookAsync("relay", "device-token");
            using var aliceHttp = Chat.Http(server.BaseAddress, alice.Sessions[0]);
            ack = await aliceHttp.SendAsync(conversation, "before-crash", "sent just before the crash");
            await server.KillAsync();
        }
        Assert.Empty(webhook.Received);

        await using var restarted = await storage.StartGatewayAsync(settings);
        var hook = await webhook.NextAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(ack.Seq, hook.Json.GetProperty("notification").GetProperty("seq").GetInt64());
        using var http = Chat.Http(restarted.BaseAddress, bob.Sessions[0]);
        var status = Assert.Single(await PushTests.FinalStatesAsync(http, conversation, 1));
        Assert.Equal(("sent", hook.NotificationId), (status.State, status.NotificationId));
        Assert.Single(webhook.Received);
        Assert.Empty(webhook.Errors);
    }
}

/// <summary>A push endpoint that never answers holds up nothing but its own notifications.</summary>
public sealed class PushDeadEndpointTests
{
    [Fact]
    public async Task AWebhookThatNeverAnswers_DoesNotHoldUpDeliveryOrSends()
    {
        // Accepts connections and never answers a byte: a dead relay behind a live load balancer.
        using var hung = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        hung.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await hung.AcceptTcpClientAsync();
                    lock (held) held.Add(client);
                }
            }
            catch (Exception) when (!hung.Server.IsBound || true)
            {
            }
        });
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)hung.LocalEndpoint).Port}/hook";
        await using var server = await ServerProcess.StartAsync(null,
            [.. PushFixture.Settings(url, delay: "00:00:02"), "--Push:SendTimeout=00:01:00"]);
        var alice = await Chat.NewUserAsync(server.BaseAddress);
        var bob = await Chat.NewUserAsync(server.BaseAddress, devices: 2);
        var conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
        using var bobHttp = Chat.Http(server.BaseAddress, bob.Sessions[0]);
        await bobHttp.SubscribeWebhookAsync("relay", "token");
        using var aliceHttp = Chat.Http(server.BaseAddress, alice.Sessions[0]);

        await aliceHttp.SendAsync(conversation, "first", "while bob is away");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            lock (held) if (held.Count > 0) break; // the notification's request is out, and hangs
            Assert.True(DateTime.UtcNow < deadline, "the notification was never sent");
            await Task.Delay(20);
        }

        // Bob's grain is not waiting for it: his other device connects and gets what comes next at once.
        await using var tablet = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[1]);
        var acks = new List<Ack>();
        for (var i = 0; i < 20; i++) acks.Add(await aliceHttp.SendAsync(conversation, $"next-{i}", $"message {i}"));
        var received = await Chat.CollectMessagesAsync(tablet, conversation, 21);
        Assert.Equal(acks.Select(a => a.Seq), received.Select(u => u.Seq).Where(s => s > 1));
        var first = (await bobHttp.GetPushStatusesAsync(conversation)).First();
        Assert.Equal((1L, "pending"), (first.Seq, first.State)); // still waiting for the dead relay
        hung.Stop();
        lock (held) foreach (var c in held) c.Dispose();
        await accepting;
    }
}
