using System.Net;

namespace Messenger.Tests.Support.Push;

/// <summary>
/// A push message the local push service accepted as valid: what it decrypted to, the delivery headers and
/// VAPID claims it came with, and how the service answered (201, a scripted status, or 410 once the device is gone).
/// </summary>
public sealed record ReceivedPush(
    string Endpoint,
    byte[] Plaintext,
    string Json,
    string? Topic,
    int Ttl,
    string? Urgency,
    string VapidSubject,
    DateTimeOffset VapidExpiry,
    HttpStatusCode AnsweredWith,
    DateTimeOffset ReceivedAt);
