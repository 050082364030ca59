using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;

namespace Messenger.Gateway.Protocol;

/// <summary>
/// The JSON Schema (2020-12) of every frame of the real-time transports: what a client writes on the
/// WebSocket (<c>client.*</c>) and what the server writes on it or hands over as long-poll events
/// (<c>server.*</c>). Built from the wire types themselves, so it cannot drift from what is sent;
/// served at <c>/openapi/frames.json</c> and kept in <c>docs/frames.schema.json</c>.
/// </summary>
public static class FrameSchemas
{
    private static readonly (string Type, Type Frame)[] ServerFrames =
    [
        ("hello", typeof(HelloFrame)), ("ack", typeof(AckFrame)), ("sync_result", typeof(SyncResultFrame)),
        ("history_result", typeof(HistoryResultFrame)), ("read_result", typeof(ReadResultFrame)),
        ("presence_result", typeof(PresenceResultFrame)), ("typing_result", typeof(TypingResultFrame)), ("pong", typeof(PongFrame)),
        ("group_result", typeof(GroupResultFrame)), ("mute_result", typeof(MuteResultFrame)),
        ("updates", typeof(UpdatesFrame)), ("presence", typeof(PresenceFrame)), ("typing", typeof(TypingFrame)), ("error", typeof(ErrorFrame)),
    ];

    // Every client frame is read into one type (ClientFrame); which of its fields each frame needs is here.
    private static readonly (string Type, string[] Required, string[] Optional)[] ClientFrames =
    [
        ("send", ["conversationId", "clientMsgId", "text"], ["id"]),
        ("sync", [], ["id", "after", "limit"]),
        ("history", ["conversationId"], ["id", "before", "after", "limit"]),
        ("read", ["conversationId", "seq"], ["id"]),
        ("presence_query", ["userIds"], ["id"]),
        ("presence_subscribe", ["userIds"], ["id"]),
        ("typing", ["conversationId"], ["id"]),
        ("ping", [], ["id"]),
        ("mute", ["conversationId", "muted"], ["id", "until"]),
        ("group_create", ["title", "userIds"], ["id"]),
        ("group_add", ["conversationId", "userIds"], ["id"]),
        ("group_remove", ["conversationId", "userId"], ["id"]),
        ("group_leave", ["conversationId"], ["id"]),
        ("group_rename", ["conversationId", "title"], ["id"]),
        ("group_role", ["conversationId", "userId", "role"], ["id"]),
    ];

    // What the server writes: numbers as numbers (it reads them from strings too, which the client
    // frames' schemas allow) and never a null (null properties are left out).
    private static readonly JsonSerializerOptions ServerWrites = new(WireJson.Context.Options) { NumberHandling = JsonNumberHandling.Strict };

    /// <summary>The document, indented, as served (built after the fields above, which it uses).</summary>
    public static string Json { get; } = Document().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static JsonObject Document()
    {
        var definitions = new JsonObject();
        var client = Export(typeof(ClientFrame), WireJson.Context.Options);
        foreach (var (type, required, optional) in ClientFrames)
        {
            var properties = new JsonObject { ["type"] = new JsonObject { ["const"] = type } };
            foreach (var name in required.Concat(optional)) properties[name] = NonNull(client["properties"]![name]!.DeepClone());
            definitions[$"client.{type}"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = properties,
                ["required"] = new JsonArray([.. new[] { "type" }.Concat(required).Select(n => (JsonNode)n)]),
            };
        }
        foreach (var (type, frame) in ServerFrames)
        {
            var schema = Export(frame, ServerWrites);
            schema["properties"]!["type"] = new JsonObject { ["const"] = type };
            schema["required"] = new JsonArray([.. AlwaysWritten(frame).Select(n => (JsonNode)n)]);
            definitions[$"server.{type}"] = schema;
        }
        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "Messenger.Orleans real-time frames",
            ["description"] = "client.*: frames a client writes on the WebSocket (unknown properties are ignored). server.*: frames the server writes on the WebSocket, and hands over as long-poll events (presence, typing). Properties the server leaves out when they have no value are not required. docs/PROTOCOL.md says what each means.",
            ["$defs"] = definitions,
        };
    }

    private static JsonObject Export(Type type, JsonSerializerOptions options) => (JsonObject)options.GetJsonSchemaAsNode(type,
        new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                if (options != ServerWrites) return node;
                // An object's required properties are those the server always writes (not the nullable ones).
                if (node is JsonObject { } o && o.ContainsKey("properties") && context.TypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
                {
                    // Nullable properties (as the source-generated metadata knows them) are left out when null; this is
                    // the object's own node, or a property's node that describes the object inline.
                    o["required"] = new JsonArray([.. context.TypeInfo.Properties.Where(p => !p.IsGetNullable).Select(p => (JsonNode)p.Name)]);
                }
                return NonNull(node);
            },
        });

    // A null is never written (by the server) and never needed (from a client): optional fields are left out.
    private static JsonNode NonNull(JsonNode property)
    {
        if (property is JsonObject { } o && o["type"] is JsonArray types)
        {
            var kept = types.Where(t => t?.GetValue<string>() != "null").Select(t => t!.DeepClone()).ToArray();
            o["type"] = kept.Length == 1 ? kept[0] : new JsonArray(kept);
        }
        return property;
    }

    // The server omits null properties, so only those that cannot be null are always there.
    private static IEnumerable<string> AlwaysWritten(Type frame)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var property in frame.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (nullability.Create(property).ReadState == NullabilityState.Nullable) continue;
            yield return WireJson.Context.Options.PropertyNamingPolicy?.ConvertName(property.Name) ?? property.Name;
        }
    }
}
