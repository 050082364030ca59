using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Messenger.Gateway.Protocol;

/// <summary>Source-generated JSON for every wire type: camelCase, nulls omitted, no reflection.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(HelloFrame))]
[JsonSerializable(typeof(AckFrame))]
[JsonSerializable(typeof(SyncResultFrame))]
[JsonSerializable(typeof(HistoryResultFrame))]
[JsonSerializable(typeof(ReadResultFrame))]
[JsonSerializable(typeof(PongFrame))]
[JsonSerializable(typeof(UpdatesFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(PresenceResultFrame))]
[JsonSerializable(typeof(PresenceFrame))]
[JsonSerializable(typeof(TypingResultFrame))]
[JsonSerializable(typeof(TypingFrame))]
[JsonSerializable(typeof(WirePresenceList))]
[JsonSerializable(typeof(WireAck))]
[JsonSerializable(typeof(WireSyncPage))]
[JsonSerializable(typeof(WireHistoryPage))]
[JsonSerializable(typeof(WireConversation))]
[JsonSerializable(typeof(WireConversationList))]
[JsonSerializable(typeof(WireUser))]
[JsonSerializable(typeof(WireReadMark))]
[JsonSerializable(typeof(WireSession))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(OpenDirectRequest))]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(MarkReadRequest))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
public sealed partial class WireJsonContext : JsonSerializerContext;
