using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Messenger.Client;
using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// The frames' JSON Schema (<c>/openapi/frames.json</c>) against what really goes over the wire: every
/// frame a real exchange brings validates against its definition, the copy in docs/ is the served one,
/// and the .NET SDK's wire types carry every property the schema names.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FrameSchemaTests(SqliteServerFixture fixture)
{
    private static readonly string[] ServerTypes =
        ["hello", "ack", "sync_result", "history_result", "read_result", "presence_result", "typing_result", "pong", "updates", "presence", "typing", "error", "group_result", "mute_result"];

    [Fact]
    public async Task ServedSchema_IsTheCopyInDocs_AndSelfContained()
    {
        var served = await ServedAsync();
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "frames.schema.json")));
        Assert.True(JsonNode.DeepEquals(served, committed),
            "docs/frames.schema.json differs from what the server serves at /openapi/frames.json: copy the served one over it");
        Assert.DoesNotContain("\"$ref\"", served.ToJsonString(), StringComparison.Ordinal); // each definition stands alone
        Assert.Equal(ServerTypes.Select(t => $"server.{t}").Order(), served["$defs"]!.AsObject().Select(d => d.Key).Where(k => k.StartsWith("server.", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public async Task Text_IsEscapedAsDocumented_InFramesAndRestBodies()
    {
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        await using var aliceSocket = await RawSocket.ConnectAsync(fixture.Url, alice.Sessions[0].Token);
        await using var bobSocket = await RawSocket.ConnectAsync(fixture.Url, bob.Sessions[0].Token);

        // PROTOCOL 1: raw UTF-8 for letters, symbols and the HTML-sensitive ASCII characters; escapes for quotes,
        // backslashes, control characters, non-ASCII spaces and anything outside the Basic Multilingual Plane.
        const string text = "\"<a&b> 'x' + é 中 €\" \\ \n 👋\u00A0z";
        const string written = "\"\\\"<a&b> 'x' + é 中 €\\\" \\\\ \\n \\uD83D\\uDC4B\\u00A0z\"";
        await aliceSocket.SendTextAsync(JsonSerializer.Serialize(new { type = "send", id = "e1", conversationId = conversation, clientMsgId = "k-é<&>", text }));

        var ack = await aliceSocket.ReceiveTypeAsync("ack");
        Assert.Equal("\"k-é<&>\"", ack.GetProperty("clientMsgId").GetRawText());
        var update = await bobSocket.ReceiveTypeAsync("updates");
        Assert.Equal(written, update.GetProperty("updates")[0].GetProperty("message").GetProperty("text").GetRawText());
        Assert.Equal("\"k-é<&>\"", update.GetProperty("updates")[0].GetProperty("message").GetProperty("clientMsgId").GetRawText());

        using var http = new HttpClient { BaseAddress = fixture.Url };
        http.DefaultRequestHeaders.Authorization = new("Bearer", bob.Sessions[0].Token);
        using var history = JsonDocument.Parse(await http.GetStringAsync($"v1/conversations/{conversation}/messages"));
        Assert.Equal(written, history.RootElement.GetProperty("messages")[0].GetProperty("text").GetRawText());
        Assert.Equal(text, history.RootElement.GetProperty("messages")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task EveryFrameOfARealExchange_ValidatesAgainstItsDefinition()
    {
        var schemas = Definitions(await ServedAsync());
        // The definitions do refuse what is wrong: a missing field, a number as a string, an unknown type.
        (string Definition, string Frame)[] wrong =
        [
            ("server.ack", """{"type":"ack","conversationId":"c"}"""),
            ("server.updates", """{"type":"updates","updates":[{"userSeq":"1","kind":"message","conversationId":"c","seq":1}]}"""),
            ("server.pong", """{"type":"typing_result"}"""),
        ];
        foreach (var (definition, frame) in wrong)
        {
            using var bad = JsonDocument.Parse(frame);
            Assert.False(schemas[definition].Evaluate(bad.RootElement).IsValid, $"{frame} passed {definition}");
        }
        var alice = await Chat.NewUserAsync(fixture.Url);
        var bob = await Chat.NewUserAsync(fixture.Url);
        var conversation = await Chat.OpenDirectAsync(fixture.Url, alice, bob);
        var frames = new List<JsonElement>();
        await using var aliceSocket = await RawSocket.ConnectAsync(fixture.Url, alice.Sessions[0].Token);
        await using var bobSocket = await RawSocket.ConnectAsync(fixture.Url, bob.Sessions[0].Token);

        // Every kind of request, each validated before it is sent; then what comes back.
        string[] requests =
        [
            $$"""{"type":"presence_subscribe","id":"1","userIds":["{{bob.Id}}"]}""",
            $$"""{"type":"presence_query","id":"2","userIds":["{{bob.Id}}"]}""",
            $$"""{"type":"typing","id":"3","conversationId":"{{conversation}}"}""",
            $$"""{"type":"send","id":"4","conversationId":"{{conversation}}","clientMsgId":"schema-1","text":"hello"}""",
            """{"type":"sync","id":"5","after":0}""",
            $$"""{"type":"history","id":"6","conversationId":"{{conversation}}","limit":10}""",
            $$"""{"type":"read","id":"7","conversationId":"{{conversation}}","seq":1}""",
            """{"type":"ping","id":"8"}""",
            $$"""{"type":"mute","id":"16","conversationId":"{{conversation}}","muted":true,"until":"2999-01-01T00:00:00Z"}""",
            $$"""{"type":"group_create","id":"10","title":"Schema","userIds":["{{bob.Id}}"]}""",
        ];
        foreach (var request in requests)
        {
            using var document = JsonDocument.Parse(request);
            AssertValid(schemas, "client." + document.RootElement.GetProperty("type").GetString(), document.RootElement);
            await aliceSocket.SendTextAsync(request);
            frames.Add(await aliceSocket.ReceiveTypeAsync(ReplyType(document.RootElement.GetProperty("type").GetString()!)));
        }
        var group = frames[^1].GetProperty("conversation").GetProperty("conversationId").GetString()!;
        foreach (var request in (string[])[
            $$"""{"type":"group_rename","id":"11","conversationId":"{{group}}","title":"Schemas"}""",
            $$"""{"type":"group_role","id":"12","conversationId":"{{group}}","userId":"{{bob.Id}}","role":"admin"}""",
            $$"""{"type":"group_add","id":"13","conversationId":"{{group}}","userIds":["{{bob.Id}}"]}""",
            $$"""{"type":"group_remove","id":"14","conversationId":"{{group}}","userId":"{{bob.Id}}"}""",
            $$"""{"type":"group_leave","id":"15","conversationId":"{{group}}"}"""])
        {
            using var document = JsonDocument.Parse(request);
            AssertValid(schemas, "client." + document.RootElement.GetProperty("type").GetString(), document.RootElement);
            await aliceSocket.SendTextAsync(request);
            var reply = await aliceSocket.ReceiveAsync();
            while (reply.GetProperty("type").GetString() is not ("group_result" or "error")) reply = await aliceSocket.ReceiveAsync();
            frames.Add(reply); // group_add of a member is an error (already_member): an error frame is validated too
        }
        await aliceSocket.SendTextAsync("""{"type":"send","id":"9"}"""); // missing fields: an error frame
        frames.Add(await aliceSocket.ReceiveTypeAsync("error"));
        // Bob's side: the pushes (typing, updates). Alice subscribed before Bob's "online" was published
        // (after Presence:OnlineSettle), so that change comes to her as a push.
        frames.Add(await bobSocket.ReceiveTypeAsync("typing"));
        frames.Add(await bobSocket.ReceiveTypeAsync("updates"));
        frames.Add(await aliceSocket.ReceiveTypeAsync("presence").WaitAsync(TimeSpan.FromSeconds(30)));
        // And a hello, as every socket's first frame.
        using var hello = new System.Net.WebSockets.ClientWebSocket();
        await hello.ConnectAsync(new Uri($"ws://{fixture.Url.Authority}/v1/ws?access_token={Uri.EscapeDataString(bob.Sessions[0].Token)}"), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        var first = await hello.ReceiveAsync(buffer, CancellationToken.None);
        frames.Add(JsonDocument.Parse(buffer.AsMemory(0, first.Count)).RootElement.Clone());

        foreach (var frame in frames) AssertValid(schemas, "server." + frame.GetProperty("type").GetString(), frame);
        Assert.Equal(ServerTypes.Order(), frames.Select(f => f.GetProperty("type").GetString()!).Distinct().Order());
    }

    [Fact]
    public async Task DotNetSdkWireTypes_CarryEveryPropertyOfTheSchema()
    {
        var served = await ServedAsync();
        var sdk = typeof(MessengerClient).Assembly;
        var inFrame = Properties(sdk.GetType("Messenger.Client.InFrame", throwOnError: true)!);
        var outFrame = Properties(sdk.GetType("Messenger.Client.OutFrame", throwOnError: true)!);
        foreach (var (name, definition) in served["$defs"]!.AsObject())
        {
            var known = name.StartsWith("server.", StringComparison.Ordinal) ? inFrame : outFrame;
            foreach (var (property, _) in definition!["properties"]!.AsObject())
            {
                Assert.True(known.Contains(property), $"{name}.{property} has no property in the SDK's {(known == inFrame ? "InFrame" : "OutFrame")}");
            }
        }
    }

    private async Task<JsonNode> ServedAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Url };
        return JsonNode.Parse(await http.GetStringAsync("/openapi/frames.json"))!;
    }

    private static Dictionary<string, JsonSchema> Definitions(JsonNode document)
    {
        var schemas = new Dictionary<string, JsonSchema>();
        foreach (var (name, definition) in document["$defs"]!.AsObject())
        {
            var standalone = definition!.DeepClone().AsObject();
            standalone["$schema"] = "https://json-schema.org/draft/2020-12/schema";
            schemas[name] = JsonSchema.FromText(standalone.ToJsonString());
        }
        return schemas;
    }

    private static void AssertValid(Dictionary<string, JsonSchema> schemas, string definition, JsonElement frame)
    {
        Assert.True(schemas.TryGetValue(definition, out var schema), $"no definition {definition} for {frame}");
        var result = schema.Evaluate(frame, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{frame} does not match {definition}: " +
            string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    private static string ReplyType(string request) => request switch
    {
        "send" => "ack",
        "presence_query" or "presence_subscribe" => "presence_result",
        "ping" => "pong",
        "mute" => "mute_result",
        _ when request.StartsWith("group_", StringComparison.Ordinal) => "group_result",
        _ => request + "_result",
    };

    private static HashSet<string> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToHashSet();
}
