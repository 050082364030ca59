using System.Net;
using System.Text.Json;

namespace Messenger.Tests.Support.Push;

/// <summary>A webhook call whose signature checked out: its notification id, its body as sent and parsed, and the status it got.</summary>
public sealed record ReceivedWebhook(
    string NotificationId,
    string Body,
    JsonElement Json,
    HttpStatusCode AnsweredWith,
    DateTimeOffset ReceivedAt);
