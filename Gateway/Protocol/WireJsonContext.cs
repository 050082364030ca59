using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
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
[JsonSerializable(typeof(GroupResultFrame))]
[JsonSerializable(typeof(MuteResultFrame))]
[JsonSerializable(typeof(WireMute))]
[JsonSerializable(typeof(MuteRequest))]
[JsonSerializable(typeof(WireMessageReceipts))]
[JsonSerializable(typeof(WireGroupChange))]
[JsonSerializable(typeof(CreateGroupRequest))]
[JsonSerializable(typeof(AddMembersRequest))]
[JsonSerializable(typeof(RenameGroupRequest))]
[JsonSerializable(typeof(SetRoleRequest))]
[JsonSerializable(typeof(WirePresenceList))]
[JsonSerializable(typeof(WireAck))]
[JsonSerializable(typeof(WireSyncPage))]
[JsonSerializable(typeof(WirePollResult))]
[JsonSerializable(typeof(PresenceSubscriptionRequest))]
[JsonSerializable(typeof(PresenceQueryRequest))]
[JsonSerializable(typeof(WireHistoryPage))]
[JsonSerializable(typeof(WireConversation))]
[JsonSerializable(typeof(WireConversationList))]
[JsonSerializable(typeof(WireUser))]
[JsonSerializable(typeof(WireReadMark))]
[JsonSerializable(typeof(WireSession))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(WireDeviceList))]
[JsonSerializable(typeof(WirePushConfig))]
[JsonSerializable(typeof(PushSubscriptionRequest))]
[JsonSerializable(typeof(WirePushSubscription))]
[JsonSerializable(typeof(WirePushSubscriptionList))]
[JsonSerializable(typeof(WirePushSettings))]
[JsonSerializable(typeof(PushSettingsRequest))]
[JsonSerializable(typeof(WirePushStatusList))]
[JsonSerializable(typeof(DeleteAccountRequest))]
[JsonSerializable(typeof(OpenDirectRequest))]
[JsonSerializable(typeof(SendMessageRequest))]
[JsonSerializable(typeof(MarkReadRequest))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(WireMessage))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
public sealed partial class WireJsonContext : JsonSerializerContext;

/// <summary>
/// The one set of JSON options for both transports: web defaults, nulls left out, and only the
/// characters JSON requires escaped (UTF-8 text stays as it is), so REST and socket frames read alike
/// (both also check what they read with <see cref="WireStrings"/>).
/// </summary>
public static class WireJson
{
    public static readonly WireJsonContext Context = new(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>A writer that escapes as <see cref="Context"/> does.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Context.Options.Encoder, SkipValidation = true };

    // One buffer and writer per thread, reused; only the finished bytes are copied out.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// <paramref name="value"/> as UTF-8 JSON, exactly as <c>JsonSerializer.SerializeToUtf8Bytes(value, info)</c> writes it,
    /// through the generated serialisation code. The serializer itself would not use that code with these options
    /// (their encoder is not the generator's default), and would walk the metadata instead, with a stack of frames
    /// allocated for every nested value; here the writer does the escaping, which is all the encoder changes.
    /// </summary>
    public static byte[] ToUtf8Bytes<T>(T value, JsonTypeInfo<T> info)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        if (info.SerializeHandler is { } generated) generated(writer, value);
        else JsonSerializer.Serialize(writer, value, info);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
