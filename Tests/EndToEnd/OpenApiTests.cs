using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Messenger.Testing;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// The OpenAPI document a client generator reads: every operation named and tagged, its errors as
/// problem details, the bearer scheme where a token is needed, and exactly the REST endpoints that
/// docs/PROTOCOL.md lists.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class OpenApiTests(SqliteServerFixture fixture)
{
    private static readonly string[] Anonymous = ["Register", "Login", "Health", "Ready"];

    [Fact]
    public async Task Document_NamesTagsAndSecuresEveryOperation_WithProblemDetailsForErrors()
    {
        var operations = await OperationsAsync();
        Assert.NotEmpty(operations);
        using var http = new HttpClient { BaseAddress = fixture.Url };
        using var document = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var bearer = document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal(("http", "bearer"), (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString()));

        var ids = new HashSet<string>();
        foreach (var (method, path, operation) in operations)
        {
            var where = $"{method} {path}";
            var id = operation.TryGetProperty("operationId", out var value) ? value.GetString() : null;
            Assert.False(string.IsNullOrEmpty(id), $"{where} has no operationId");
            Assert.True(ids.Add(id!), $"{where}: operationId {id} is used twice");
            Assert.True(operation.TryGetProperty("tags", out var tags) && tags.GetArrayLength() > 0, $"{where} has no tag");
            var secured = operation.TryGetProperty("security", out var security) && security.ToString().Contains("bearer", StringComparison.Ordinal);
            Assert.True(secured != Anonymous.Contains(id), $"{where} ({id}): bearer security {(secured ? "required" : "missing")}");
            foreach (var response in operation.GetProperty("responses").EnumerateObject())
            {
                if (!path.StartsWith("/v1/", StringComparison.Ordinal) || int.Parse(response.Name) < 400) continue;
                Assert.True(response.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out _),
                    $"{where}: response {response.Name} is not described as application/problem+json");
            }
            if (path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                foreach (var status in new[] { "400", "401", "500", "503" })
                {
                    Assert.True(operation.GetProperty("responses").TryGetProperty(status, out _), $"{where} does not list {status}");
                }
            }
        }
    }

    [Fact]
    public async Task Document_HasExactlyTheRestEndpointsOfTheProtocolDocument()
    {
        var documented = new HashSet<string>();
        var protocol = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "PROTOCOL.md"));
        foreach (Match row in TableRow().Matches(protocol))
        {
            if (row.Groups["method"].Value.Contains("upgrade", StringComparison.Ordinal)) continue; // the WebSocket: not REST
            var path = row.Groups["path"].Value.Split('?')[0];
            documented.Add($"{row.Groups["method"].Value.ToUpperInvariant()} {path}");
        }
        var served = (await OperationsAsync()).Select(o => $"{o.Method} {o.Path}").ToHashSet();
        served.Add("GET /openapi/v1.json"); // the document itself is not one of its operations
        served.Add("GET /openapi/frames.json"); // nor is the frames' schema
        Assert.Equal(documented.Order(), served.Order());
    }

    [Fact]
    public async Task Document_IsTheCopyInDocs_AndDescribesResponsesAsTheServerWritesThem()
    {
        using var http = new HttpClient { BaseAddress = fixture.Url };
        var served = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "openapi.json")));
        Assert.True(JsonNode.DeepEquals(served, committed),
            "docs/openapi.json differs from what the server serves at /openapi/v1.json: copy the served one over it (and regenerate the TypeScript SDK's types: npm run generate in Client.TypeScript)");

        // Code generated from the document (the TypeScript SDK's types) must see what is sent: numbers as
        // numbers only, and properties the server leaves out optional rather than nullable.
        var models = served["components"]!["schemas"]!.AsObject().Where(s => s.Key.StartsWith("Wire", StringComparison.Ordinal)).ToList();
        Assert.Contains(models, m => m.Key == "WireConversationSummary");
        foreach (var (name, model) in models)
        {
            var required = model!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
            foreach (var (property, schema) in model["properties"]!.AsObject())
            {
                var text = schema!.ToJsonString();
                Assert.False(text.Contains("\"null\"", StringComparison.Ordinal), $"{name}.{property} may be null: {text}");
                Assert.False(text.Contains("\"integer\"", StringComparison.Ordinal) && text.Contains("\"string\"", StringComparison.Ordinal),
                    $"{name}.{property} is described as a number or a string: {text}");
            }
            var optional = model["properties"]!.AsObject().Select(p => p.Key).Except(required).ToList();
            var expected = name switch
            {
                "WireConversationSummary" => ["lastMessage", "members", "title", "mutedUntil"],
                "WireMute" => ["mutedUntil"],
                "WireConversation" => ["title", "owners", "admins"],
                "WireMessage" => ["event"],
                "WireEvent" => ["title", "role"],
                "WireUpdate" => ["message", "receipts", "mutedUntil"],
                "WirePresence" => ["lastSeen"],
                "WireDevice" => ["name"],
                "WirePushStatus" => ["detail"],
                "WirePushSubscription" => ["endpoint", "target"],
                _ => Array.Empty<string>(),
            };
            Assert.True(expected.Order().SequenceEqual(optional.Order()), $"{name}: optional properties {string.Join(",", optional)}");
        }
    }

    [Fact]
    public async Task Document_DescribesRequestBodiesAsTheServerReadsThem()
    {
        using var http = new HttpClient { BaseAddress = fixture.Url };
        var schemas = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!["components"]!["schemas"]!.AsObject();
        // Every property of a request body is required and not null, but those a client may leave out (PROTOCOL 4.4,
        // 4.17, 4.18), which are neither required nor said to be anything but what they are when sent.
        var optional = new Dictionary<string, string[]>
        {
            ["LoginRequest"] = ["deviceId", "deviceName"],
            ["MuteRequest"] = ["until"],
            ["PushSubscriptionRequest"] = ["webPush", "webhook"],
        };
        var bodies = schemas.Where(s => s.Key.EndsWith("Request", StringComparison.Ordinal) || s.Key == "WebPushKeys").ToList();
        Assert.Contains(bodies, b => b.Key == "SendMessageRequest");
        Assert.Contains(bodies, b => b.Key == "WebPushKeys");
        foreach (var (name, body) in bodies)
        {
            var required = body!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];
            var properties = body["properties"]!.AsObject();
            var mayLeaveOut = optional.GetValueOrDefault(name, []);
            Assert.True(properties.Select(p => p.Key).Except(mayLeaveOut).Order().SequenceEqual(required.Order()),
                $"{name}: required {string.Join(",", required)}, may be left out {string.Join(",", mayLeaveOut)}");
            foreach (var property in required)
            {
                var text = properties[property]!.ToJsonString();
                Assert.False(text.Contains("\"null\"", StringComparison.Ordinal), $"{name}.{property} is required yet may be null: {text}");
            }
        }
    }

    private async Task<List<(string Method, string Path, JsonElement Operation)>> OperationsAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Url };
        using var document = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        var operations = new List<(string, string, JsonElement)>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject()) operations.Add((operation.Name.ToUpperInvariant(), path.Name, operation.Value.Clone()));
        }
        return operations;
    }

    // A row of the endpoint table in section 4: | METHOD | `path` | auth | success |
    [GeneratedRegex(@"^\| (?<method>GET|POST|PUT|PATCH|DELETE|GET \(upgrade\)) \| `(?<path>/[^`]*)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
