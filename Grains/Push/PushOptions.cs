namespace Messenger.Grains.Push;

/// <summary>Push notifications for users with no live device. Section <c>Push</c>.</summary>
public sealed class PushOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Push";

    /// <summary>
    /// How long a message may go unreceived by every device of a user before the user's subscriptions are
    /// notified; messages of one conversation that come within it make one notification.
    /// </summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a push service keeps a notification for a device that is offline (Web Push <c>TTL</c>).</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Web Push <c>Urgency</c>: <c>very-low</c>, <c>low</c>, <c>normal</c> or <c>high</c>.</summary>
    public string Urgency { get; set; } = "high";

    /// <summary>The contact in the VAPID token (RFC 8292 <c>sub</c>): a <c>mailto:</c> or <c>https:</c> URI of the operator.</summary>
    public string Subject { get; set; } = "mailto:postmaster@localhost";

    /// <summary>The webhook targets devices may subscribe to, by name: where to POST and the secret to sign with.</summary>
    public Dictionary<string, WebhookTarget> Webhooks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hosts whose Web Push endpoints may be plain <c>http</c> (a local test service); every other endpoint must be <c>https</c>.</summary>
    public List<string> InsecureHosts { get; set; } = [];

    /// <summary>Most send attempts per notification and subscription before it counts as failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait before the first retry; it doubles with each attempt, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts (also caps a push service's <c>Retry-After</c>).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long one request to a push service or webhook may take.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most requests to push services and webhooks in flight at once, per silo.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>How often each silo looks for notifications due whose user grain is not active (after a crash).</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a finished notification's state is kept for lookup.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The longest preview, in characters, for users who turned previews on.</summary>
    public int PreviewLength { get; set; } = 100;

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (Delay < TimeSpan.Zero || Delay > TimeSpan.FromMinutes(10)) throw Bad(nameof(Delay), "must be 00:00:00 to 00:10:00");
        if (TimeToLive < TimeSpan.Zero || TimeToLive > TimeSpan.FromDays(28)) throw Bad(nameof(TimeToLive), "must be 0 to 28 days");
        if (!WebPushUrgency.IsValid(Urgency)) throw Bad(nameof(Urgency), "must be very-low, low, normal or high");
        if (!Uri.TryCreate(Subject, UriKind.Absolute, out var subject) || subject.Scheme is not ("mailto" or "https"))
        {
            throw Bad(nameof(Subject), "must be a mailto: or https: URI");
        }
        foreach (var (name, target) in Webhooks)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Length > 64) throw Bad($"{nameof(Webhooks)}:{name}", "needs a name of 1 to 64 characters");
            if (!Uri.TryCreate(target.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw Bad($"{nameof(Webhooks)}:{name}:{nameof(WebhookTarget.Url)}", "must be an absolute http or https URL");
            }
            if (string.IsNullOrEmpty(target.Secret) || target.Secret.Length < 16)
            {
                throw Bad($"{nameof(Webhooks)}:{name}:{nameof(WebhookTarget.Secret)}", "must be at least 16 characters");
            }
        }
        if (MaxAttempts < 1 || MaxAttempts > 100) throw Bad(nameof(MaxAttempts), "must be 1 to 100");
        if (RetryDelay <= TimeSpan.Zero || RetryDelay > MaxRetryDelay) throw Bad(nameof(RetryDelay), $"must be above zero and at most {nameof(MaxRetryDelay)}");
        if (SendTimeout <= TimeSpan.Zero || SendTimeout > TimeSpan.FromMinutes(2)) throw Bad(nameof(SendTimeout), "must be above zero and at most 00:02:00");
        if (Concurrency < 1 || Concurrency > 4096) throw Bad(nameof(Concurrency), "must be 1 to 4096");
        if (ScanInterval < TimeSpan.FromSeconds(1)) throw Bad(nameof(ScanInterval), "must be at least 00:00:01");
        if (Retention < TimeSpan.FromMinutes(1)) throw Bad(nameof(Retention), "must be at least 00:01:00");
        // A Web Push payload must stay within 4096 bytes once encrypted: 500 characters, escaped, leave room for the rest.
        if (PreviewLength < 1 || PreviewLength > 500) throw Bad(nameof(PreviewLength), "must be 1 to 500");
    }

    private static InvalidOperationException Bad(string setting, string rule) => new($"{SectionName}:{setting} {rule}.");
}

/// <summary>An operator's webhook for notifications (e.g. a relay to APNs or FCM).</summary>
public sealed class WebhookTarget
{
    /// <summary>Where notifications are POSTed.</summary>
    public string Url { get; set; } = "";

    /// <summary>The key of the HMAC-SHA256 signature each request carries (<c>Messenger-Signature</c>).</summary>
    public string Secret { get; set; } = "";
}

/// <summary>The Web Push <c>Urgency</c> values (RFC 8030 5.3).</summary>
public static class WebPushUrgency
{
    /// <summary>Whether <paramref name="value"/> is one of them.</summary>
    public static bool IsValid(string value) => value is "very-low" or "low" or "normal" or "high";
}
