namespace Messenger.Grains;

/// <summary>How a push subscription is reached.</summary>
public enum PushKind
{
    /// <summary>Web Push (RFC 8030): a browser's push service endpoint, the payload encrypted to its keys (RFC 8291), VAPID signed (RFC 8292).</summary>
    WebPush = 1,
    /// <summary>An operator-configured webhook (e.g. a relay to APNs or FCM), a signed JSON POST carrying the device's token.</summary>
    Webhook = 2,
}

/// <summary>
/// Where one device wants notifications while the user has no live device. For <see cref="PushKind.WebPush"/>:
/// <see cref="Endpoint"/>, <see cref="P256dh"/> and <see cref="Auth"/> as the browser's PushManager gave them; for
/// <see cref="PushKind.Webhook"/>: the name of a configured webhook <see cref="Target"/> and the device's <see cref="Token"/>
/// there (opaque to the server).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PushSubscription(
    [property: Id(0)] PushKind Kind,
    [property: Id(1)] string? Endpoint = null,
    [property: Id(2)] string? P256dh = null,
    [property: Id(3)] string? Auth = null,
    [property: Id(4)] string? Target = null,
    [property: Id(5)] string? Token = null);

/// <summary>One device's push subscription as the user's list shows it.</summary>
/// <param name="DeviceId">The device it belongs to (removed when that device logs out).</param>
/// <param name="Subscription">Where notifications go.</param>
/// <param name="CreatedAt">When it was registered (or last replaced).</param>
[GenerateSerializer, Immutable]
public sealed record DevicePushSubscription(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] PushSubscription Subscription,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A user's push settings.</summary>
/// <param name="Preview">Notifications carry the start of the message's text (off by default: content-free).</param>
[GenerateSerializer, Immutable]
public sealed record PushSettings([property: Id(0)] bool Preview);

/// <summary>What became of the notification for one message and one user.</summary>
public enum PushState
{
    /// <summary>Waiting: for the delay in which a live device may still receive it, or for a retry.</summary>
    Pending = 0,
    /// <summary>Every subscription's push service or webhook took it.</summary>
    Sent = 1,
    /// <summary>Not sent: a device of the user received the message (live, or by syncing) in time.</summary>
    Delivered = 2,
    /// <summary>Not sent: the user read the conversation past it in time.</summary>
    Read = 3,
    /// <summary>Not sent: the user has muted the conversation.</summary>
    Muted = 4,
    /// <summary>Not sent on its own: a later message of the same conversation carries it (its <c>Detail</c> names which).</summary>
    Collapsed = 5,
    /// <summary>Gave up: every subscription refused it for good, or the attempts ran out (<c>Detail</c> says why).</summary>
    Failed = 6,
    /// <summary>Not sent: the user had no push subscription left when it was due.</summary>
    NoSubscription = 7,
}

/// <summary>Conversions of <see cref="PushState"/> to its name on the wire, in logs and in metrics.</summary>
public static class PushStates
{
    /// <summary>The snake_case name.</summary>
    public static string ToWire(this PushState state) => state switch
    {
        PushState.Pending => "pending",
        PushState.Sent => "sent",
        PushState.Delivered => "delivered",
        PushState.Read => "read",
        PushState.Muted => "muted",
        PushState.Collapsed => "collapsed",
        PushState.Failed => "failed",
        _ => "no_subscription",
    };
}

/// <summary>The push state of one message for one user, as the operator and the user can look it up.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">The message.</param>
/// <param name="UserSeq">Its position in the user's update log.</param>
/// <param name="State">What became of it.</param>
/// <param name="Attempts">Send attempts so far (one per subscription and try).</param>
/// <param name="Detail">Why, in words, for a failure, a collapse or a retry; else null.</param>
/// <param name="CreatedAt">When the message reached the user's log.</param>
/// <param name="UpdatedAt">When the state last changed.</param>
/// <param name="NotificationId">The id the notification carries (stable per user and message; receivers drop repeats by it).</param>
[GenerateSerializer, Immutable]
public sealed record PushStatus(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long Seq,
    [property: Id(2)] long UserSeq,
    [property: Id(3)] PushState State,
    [property: Id(4)] int Attempts,
    [property: Id(5)] string? Detail,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt,
    [property: Id(8)] string NotificationId);

/// <summary>The outcome of one attempt to send a notification to one subscription (from the silo's push sender).</summary>
/// <param name="ConversationId">The notification's conversation.</param>
/// <param name="Seq">The notification's message.</param>
/// <param name="DeviceId">The subscription's device.</param>
/// <param name="Outcome">What the push service or webhook answered.</param>
/// <param name="RetryAfter">For <see cref="PushOutcome.Retry"/>: the wait the service asked for, if it named one.</param>
/// <param name="Detail">The status and reason, for the log and the push state.</param>
/// <param name="Subscription">The subscription the attempt went to (a newer one of the device is not removed for this one's 410).</param>
[GenerateSerializer, Immutable]
public sealed record PushAttempt(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long Seq,
    [property: Id(2)] string DeviceId,
    [property: Id(3)] PushOutcome Outcome,
    [property: Id(4)] TimeSpan? RetryAfter,
    [property: Id(5)] string? Detail,
    [property: Id(6)] PushSubscription Subscription);

/// <summary>How a push service or webhook answered one notification.</summary>
public enum PushOutcome
{
    /// <summary>Taken (2xx).</summary>
    Sent = 1,
    /// <summary>Try again later: 429, 5xx, a timeout or a network failure.</summary>
    Retry = 2,
    /// <summary>The subscription no longer exists (404, 410): it is removed.</summary>
    Gone = 3,
    /// <summary>Refused for good (another 4xx): retrying would not help.</summary>
    Rejected = 4,
}

/// <summary>The server's VAPID key pair (RFC 8292), P-256, base64url: created once, kept in grain storage.</summary>
/// <param name="PublicKey">The 65-byte uncompressed public point: a browser subscribes with it as <c>applicationServerKey</c>.</param>
/// <param name="PrivateKey">The 32-byte private scalar.</param>
[GenerateSerializer, Immutable]
public sealed record VapidKeys([property: Id(0)] string PublicKey, [property: Id(1)] string PrivateKey);

/// <summary>The one holder of the server's VAPID key pair (key 0), so every silo signs with the same key.</summary>
public interface IVapidKeysGrain : IGrainWithIntegerKey
{
    /// <summary>The key pair, created and stored on the first call ever (for the silos' push senders).</summary>
    Task<VapidKeys> GetAsync();

    /// <summary>The public key alone (for clients).</summary>
    Task<string> GetPublicKeyAsync();
}
