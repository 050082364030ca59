using System.Net;
using System.Net.Http.Headers;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebPushSubscription = Lib.Net.Http.WebPush.PushSubscription;

namespace Messenger.Grains.Push;

/// <summary>
/// The silo's sender of notifications: user grains hand it what to send and go on at once; it sends to
/// each subscription (Web Push through <c>Lib.Net.Http.WebPush</c>, webhooks as signed JSON POSTs), a
/// bounded number at a time and each with a timeout, then tells the user grain what every service
/// answered. A slow or dead push service therefore never holds up a grain or a message's delivery.
/// </summary>
public sealed class PushSender : IDisposable
{
    /// <summary>The log category of the push pipeline (what became of each notification; filter it with <c>Logging:LogLevel:Messenger.Push</c>).</summary>
    public const string LogCategory = "Messenger.Push";

    private readonly IGrainFactory _grains;
    private readonly IConversationStore _conversations;
    private readonly PushOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _webPushHttp;
    private readonly HttpClient _webhookHttp;
    private readonly PushServiceClient _webPush;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _vapidLock = new();
    private Task<VapidAuthentication>? _vapid;

    public PushSender(IGrainFactory grains, IConversationStore conversations, IOptions<PushOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _grains = grains;
        _conversations = conversations;
        _options = options.Value;
        _time = time;
        _logger = loggers.CreateLogger(LogCategory);
        // A user's Web Push endpoint reaches public addresses only (unless the operator allowed its host);
        // a webhook, which the operator configured, its own host and port wherever they are.
        var insecure = new HashSet<string>(_options.InsecureHosts, StringComparer.OrdinalIgnoreCase);
        var webhooks = new HashSet<string>(_options.Webhooks.Values.Select(t => new Uri(t.Url).Host), StringComparer.OrdinalIgnoreCase);
        _webPushHttp = Client(insecure.Contains);
        _webhookHttp = Client(webhooks.Contains);
        _webPush = new PushServiceClient(_webPushHttp) { AutoRetryAfter = false, DefaultTimeToLive = (int)_options.TimeToLive.TotalSeconds };
        _slots = new SemaphoreSlim(_options.Concurrency);
    }

    private HttpClient Client(Func<string, bool> allowedHosts) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        UseProxy = false, // the connect step must see the real destination
        ConnectCallback = (context, ct) => PushAddresses.ConnectAsync(context, allowedHosts, ct),
    })
    { Timeout = _options.SendTimeout };

    /// <summary>Sends <paramref name="send"/> for <paramref name="userId"/> in the background; the user grain hears back.</summary>
    public void Enqueue(string userId, PushSend send, bool preview) => _ = Task.Run(() => SendAsync(userId, send, preview));

    private async Task SendAsync(string userId, PushSend send, bool preview)
    {
        var r = send.Record;
        var id = PushOutbox.NotificationId(userId, r.ConversationId, r.Seq);
        List<PushAttempt> attempts = [];
        try
        {
            var text = preview ? await PreviewAsync(r.ConversationId, r.Seq) : null;
            var tasks = new Task<PushAttempt>[send.Targets.Count];
            for (var i = 0; i < tasks.Length; i++) tasks[i] = AttemptAsync(userId, id, send, send.Targets[i].Key, send.Targets[i].Value, text);
            attempts.AddRange(await Task.WhenAll(tasks));
        }
        catch (Exception ex)
        {
            // Not the services' fault (the preview's read failed): every target is retried.
            _logger.LogWarning(ex, "Push {NotificationId} for {UserId} could not be prepared", id, userId);
            foreach (var (deviceId, subscription) in send.Targets)
            {
                attempts.Add(new PushAttempt(r.ConversationId, r.Seq, deviceId, PushOutcome.Retry, null, $"not prepared: {ex.Message}", subscription));
            }
        }
        for (var tries = 0; ; tries++)
        {
            try
            {
                await _grains.GetGrain<IUserGrain>(userId).PushAttemptedAsync(r.ConversationId, r.Seq, attempts);
                return;
            }
            catch (Exception ex) when (tries < 5)
            {
                // The outcome is lost only if this fails for good: the row stays pending and is sent again (same id).
                _logger.LogDebug(ex, "Reporting push {NotificationId} to {UserId} failed; retrying", id, userId);
                await Task.Delay(TimeSpan.FromMilliseconds(200 << tries), _time);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Reporting push {NotificationId} to {UserId} failed", id, userId);
                return;
            }
        }
    }

    private async Task<PushAttempt> AttemptAsync(string userId, string id, PushSend send, string deviceId, Grains.PushSubscription subscription, string? preview)
    {
        var r = send.Record;
        await _slots.WaitAsync();
        try
        {
            PushOutcome outcome;
            TimeSpan? retryAfter;
            string? detail;
            try
            {
                (outcome, retryAfter, detail) = subscription.Kind == PushKind.WebPush
                    ? await SendWebPushAsync(subscription, PushPayload.Notification(id, send, preview), r.ConversationId)
                    : await SendWebhookAsync(subscription, PushPayload.Webhook(id, userId, deviceId, subscription.Token!, send, preview), id);
            }
            catch (Exception ex)
            {
                // Not the service's answer (the key could not be loaded, the library failed): this target only is retried.
                _logger.LogWarning(ex, "Push {NotificationId} to device {DeviceId} of {UserId} failed before an answer", id, deviceId, userId);
                (outcome, retryAfter, detail) = (PushOutcome.Retry, null, $"not sent: {ex.Message}");
            }
            MessengerMetrics.PushAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));
            if (outcome == PushOutcome.Sent)
            {
                MessengerMetrics.PushDuration.Record((_time.GetUtcNow().ToUnixTimeMilliseconds() - r.SentAtMs));
            }
            else
            {
                _logger.LogInformation("Push {NotificationId} to device {DeviceId} of {UserId}: {Outcome} ({Detail})", id, deviceId, userId, outcome, detail);
            }
            return new PushAttempt(r.ConversationId, r.Seq, deviceId, outcome, retryAfter, detail, subscription);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<(PushOutcome, TimeSpan?, string?)> SendWebPushAsync(Grains.PushSubscription subscription, byte[] payload, string conversationId)
    {
        var target = new WebPushSubscription { Endpoint = subscription.Endpoint! };
        target.SetKey(PushEncryptionKeyName.P256DH, subscription.P256dh!);
        target.SetKey(PushEncryptionKeyName.Auth, subscription.Auth!);
        var message = new PushMessage(new ByteArrayContent(payload))
        {
            Topic = PushPayload.Topic(conversationId),
            TimeToLive = (int)_options.TimeToLive.TotalSeconds,
            Urgency = _options.Urgency switch
            {
                "very-low" => PushMessageUrgency.VeryLow,
                "low" => PushMessageUrgency.Low,
                "normal" => PushMessageUrgency.Normal,
                _ => PushMessageUrgency.High,
            },
        };
        try
        {
            using var timeout = new CancellationTokenSource(_options.SendTimeout);
            await _webPush.RequestPushMessageDeliveryAsync(target, message, await VapidAsync(), VapidAuthenticationScheme.Vapid, timeout.Token);
            return (PushOutcome.Sent, null, null);
        }
        catch (PushServiceClientException ex)
        {
            return Classify(ex.StatusCode, ex.Headers?.RetryAfter, ex.Message, goneOn404: true);
        }
        catch (HttpRequestException ex) when (ex.InnerException is PushAddresses.RefusedException refused)
        {
            return (PushOutcome.Gone, null, refused.Message);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or TimeoutException)
        {
            return (PushOutcome.Retry, null, $"no answer: {ex.Message}");
        }
    }

    private async Task<(PushOutcome, TimeSpan?, string?)> SendWebhookAsync(Grains.PushSubscription subscription, byte[] body, string id)
    {
        if (!_options.Webhooks.TryGetValue(subscription.Target!, out var target))
        {
            return (PushOutcome.Gone, null, $"webhook target '{subscription.Target}' is no longer configured");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(target.Secret, _time.GetUtcNow(), body));
        request.Headers.TryAddWithoutValidation(WebhookSignature.IdHeader, id);
        try
        {
            using var timeout = new CancellationTokenSource(_options.SendTimeout);
            using var response = await _webhookHttp.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode ? (PushOutcome.Sent, null, null)
                : Classify(response.StatusCode, response.Headers.RetryAfter, response.ReasonPhrase, goneOn404: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or TimeoutException)
        {
            return (PushOutcome.Retry, null, $"no answer: {ex.Message}");
        }
    }

    /// <summary>
    /// What a push service's or webhook's error status means for the subscription. A push service's 404 says
    /// the subscription is gone (RFC 8030); a webhook's may be a mistyped URL or a deploy in progress, so it
    /// fails that notification only, and only 410 removes a webhook subscription.
    /// </summary>
    private (PushOutcome, TimeSpan?, string?) Classify(HttpStatusCode status, RetryConditionHeaderValue? retryAfter, string? reason, bool goneOn404)
    {
        var code = (int)status;
        var detail = $"{code} {reason}".Trim();
        if (status == HttpStatusCode.Gone || (goneOn404 && status == HttpStatusCode.NotFound)) return (PushOutcome.Gone, null, detail);
        if (status == HttpStatusCode.TooManyRequests || code >= 500 || status == HttpStatusCode.RequestTimeout)
        {
            TimeSpan? wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - _time.GetUtcNow() : null);
            return (PushOutcome.Retry, wait is { } w && w > TimeSpan.Zero ? w : null, detail);
        }
        return (PushOutcome.Rejected, null, detail);
    }

    private async Task<string?> PreviewAsync(string conversationId, long seq)
    {
        var messages = await _conversations.ReadMessagesByKeyAsync([new MessageKey(conversationId, seq)]);
        return messages.Count == 0 ? null : PushPayload.Preview(messages[0].Text, _options.PreviewLength);
    }

    /// <summary>The VAPID signer, loaded once; a failed load is tried again by the next notification.</summary>
    private Task<VapidAuthentication> VapidAsync()
    {
        lock (_vapidLock)
        {
            if (_vapid is null || _vapid.IsFaulted || _vapid.IsCanceled) _vapid = LoadVapidAsync();
            return _vapid;
        }
    }

    private async Task<VapidAuthentication> LoadVapidAsync()
    {
        var keys = await _grains.GetGrain<IVapidKeysGrain>(0).GetAsync();
        return new VapidAuthentication(keys.PublicKey, keys.PrivateKey) { Subject = _options.Subject };
    }

    public void Dispose()
    {
        if (_vapid is { IsCompletedSuccessfully: true } vapid) vapid.Result.Dispose();
        _webPushHttp.Dispose();
        _webhookHttp.Dispose();
        _slots.Dispose();
    }
}
