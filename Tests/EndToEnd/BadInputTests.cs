using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>Every bad input gets a clear error with a stable code, changes nothing, and leaves the connection usable.</summary>
[Collection(ServerCollection.Name)]
public sealed class BadInputTests(SqliteServerFixture fixture)
{
    private Uri Url => fixture.Url;

    private async Task<(ChatUser Alice, ChatUser Bob, string Conversation)> PairAsync()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        return (alice, bob, await Chat.OpenDirectAsync(Url, alice, bob));
    }

    [Fact]
    public async Task Socket_BadFrames_GetErrors_AndTheConnectionStaysUsable()
    {
        var (alice, _, conversation) = await PairAsync();
        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);

        await socket.SendTextAsync("{not json");
        await socket.ExpectErrorAsync("malformed_json");
        await socket.AssertUsableAsync();

        await socket.SendTextAsync("""{"type":"teleport","id":"x1"}""");
        var unknown = await socket.ExpectErrorAsync("unknown_frame_type");
        Assert.Equal("x1", unknown.GetProperty("id").GetString());

        await socket.SendTextAsync("""{"id":"x2"}""");
        Assert.Equal("x2", (await socket.ExpectErrorAsync("invalid_request")).GetProperty("id").GetString());

        await socket.SendTextAsync($$"""{"type":"send","id":"x3","conversationId":"{{conversation}}","clientMsgId":"k1"}""");
        var missing = await socket.ExpectErrorAsync("invalid_request");
        Assert.Contains("text", missing.GetProperty("message").GetString());

        await socket.SendTextAsync($$"""{"type":"send","id":"x4","conversationId":"{{conversation}}","text":"hi"}""");
        Assert.Contains("clientMsgId", (await socket.ExpectErrorAsync("invalid_request")).GetProperty("message").GetString());

        await socket.SendTextAsync($$"""{"type":"send","id":"x5","conversationId":"{{conversation}}","clientMsgId":"k2","text":"{{new string('a', 4001)}}"}""");
        await socket.ExpectErrorAsync("invalid_request");

        await socket.SendTextAsync($$"""{"type":"send","id":"x6","conversationId":"{{conversation}}","clientMsgId":"k3","text":"{{new string('a', 70_000)}}"}""");
        await socket.ExpectErrorAsync("too_large");
        await socket.AssertUsableAsync();

        await socket.SendBinaryAsync([1, 2, 3]);
        await socket.ExpectErrorAsync("invalid_request");

        await socket.SendTextAsync("""{"type":"sync","id":"x7","after":999}""");
        await socket.ExpectErrorAsync("out_of_range");
        await socket.SendTextAsync("""{"type":"sync","id":"x8","after":0,"limit":100000}""");
        await socket.ExpectErrorAsync("out_of_range");
        await socket.SendTextAsync("""{"type":"send","id":"x9","conversationId":42}""");
        await socket.ExpectErrorAsync("malformed_json");
        await socket.AssertUsableAsync();

        // Nothing of the above made a message.
        using var http = Chat.Http(Url, alice.Sessions[0]);
        Assert.Equal(0, (await http.GetHistoryAsync(conversation)).LastSeq);
        Assert.Equal(0, (await http.SyncAsync(0)).UserSeq);
    }

    [Fact]
    public async Task NulCharacter_InAnyString_IsRefusedOnBothTransports_AndChangesNothing()
    {
        var (alice, bob, conversation) = await PairAsync();
        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);

        // U+0000 is valid JSON (escaped), but no field has a use for it (and PostgreSQL's text cannot hold it).
        await socket.SendTextAsync($$"""{"type":"send","id":"n1","conversationId":"{{conversation}}","clientMsgId":"k1","text":"a\u0000b"}""");
        var inText = await socket.ExpectErrorAsync("invalid_request");
        Assert.Equal("n1", inText.GetProperty("id").GetString());
        Assert.Contains("U+0000", inText.GetProperty("message").GetString());
        await socket.SendTextAsync($$"""{"type":"send","id":"n2","conversationId":"{{conversation}}","clientMsgId":"k\u0000","text":"hi"}""");
        Assert.Equal("n2", (await socket.ExpectErrorAsync("invalid_request")).GetProperty("id").GetString());
        // The id is repeated as any other error repeats it: its name matched in any case, the last one if repeated.
        await socket.SendTextAsync($$"""{"type":"send","id":"first","ID":"n3","conversationId":"{{conversation}}","clientMsgId":"k4","text":"\u0000"}""");
        Assert.Equal("n3", (await socket.ExpectErrorAsync("invalid_request")).GetProperty("id").GetString());
        await socket.AssertUsableAsync();

        using var http = new HttpClient { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Sessions[0].Token);
        var detail = await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages",
            """{"clientMsgId":"k3","text":"\u0000"}"""), 400, "invalid_request");
        Assert.Contains("U+0000", detail);
        await AssertProblemAsync(await PostRawAsync(http, "v1/conversations/groups",
            $$"""{"title":"team\u0000","userIds":["{{bob.Id}}"]}"""), 400, "invalid_request");

        // Nothing was sent or created; the same send without the NUL goes through.
        using var client = Chat.Http(Url, alice.Sessions[0]);
        Assert.Equal(0, (await client.GetHistoryAsync(conversation)).LastSeq);
        Assert.Single(await client.ListConversationsAsync());
        Assert.Equal(1, (await client.SendAsync(conversation, "k1", "ab")).Seq);
    }

    [Fact]
    public async Task Socket_TextThatIsNotUtf8_ClosesTheConnectionWith1007_AsDocumented()
    {
        var alice = await Chat.NewUserAsync(Url);
        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);
        await socket.AssertUsableAsync();
        // RFC 6455 section 8.1: invalid UTF-8 in a text message fails the connection; no error frame comes first.
        await socket.SendTextBytesAsync([(byte)'{', 0xFF, (byte)'}']);
        // No frame arrives: the next thing is the Close (1007, no reason), or the connection breaking if the
        // server's drop of it overtakes that Close, as documented.
        var ended = await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync());
        if (socket.Socket.CloseStatus is { } status)
        {
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
            Assert.True(string.IsNullOrEmpty(socket.Socket.CloseStatusDescription), socket.Socket.CloseStatusDescription);
        }
        else
        {
            Assert.Equal(WebSocketError.ConnectionClosedPrematurely, ended.WebSocketErrorCode);
        }
        Assert.NotEqual(WebSocketState.Open, socket.Socket.State);
    }

    [Fact]
    public async Task Strangers_CannotReadOrWriteAConversation()
    {
        var (alice, bob, conversation) = await PairAsync();
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        await aliceHttp.SendAsync(conversation, "k1", "private");
        var mallory = await Chat.NewUserAsync(Url);
        await using var device = await Chat.ConnectAsync(Url, mallory.Sessions[0]);
        using var http = Chat.Http(Url, mallory.Sessions[0]);

        foreach (var attempt in new Func<Task>[]
        {
            () => device.SendAsync(conversation, "let me in"),
            () => device.GetHistoryAsync(conversation),
            () => device.MarkReadAsync(conversation, 1),
            () => http.SendAsync(conversation, "k", "let me in"),
            () => http.GetHistoryAsync(conversation),
            () => http.MarkReadAsync(conversation, 1),
            () => device.SendAsync("d:nonsense", "x"),
            () => http.GetHistoryAsync("g:does-not-exist"),
        })
        {
            var error = await Assert.ThrowsAsync<MessengerClientException>(attempt);
            Assert.Equal("not_member", error.Code);
        }
        // Opening someone else's direct conversation directly by id is refused too.
        var open = await Assert.ThrowsAsync<MessengerClientException>(() => http.GetHistoryAsync(conversation, after: 0));
        Assert.Equal(403, open.HttpStatus);
        Assert.Equal(1, (await aliceHttp.GetHistoryAsync(conversation)).LastSeq);
        Assert.Empty(await http.ListConversationsAsync());
        Assert.Single(await Chat.Http(Url, bob.Sessions[0]).ListConversationsAsync());
    }

    [Fact]
    public async Task Rest_BadBodies_GetProblemDetailsWithStableCodes()
    {
        var (alice, _, conversation) = await PairAsync();
        using var http = new HttpClient { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Sessions[0].Token);

        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages", "{\"clientMsgId\":"), 400, "malformed_json");
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages", "{\"clientMsgId\":\"a\"}"), 400, "invalid_request");
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages",
            "{\"clientMsgId\":\"a\",\"text\":\"" + new string('x', 70_000) + "\"}"), 413, "too_large");
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/read", "{}"), 400, "invalid_request");
        // A property a body requires (openapi.json: required, not null) sent as null is refused like a missing one.
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages", "{\"clientMsgId\":null,\"text\":\"hi\"}"), 400, "invalid_request");
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/read", "{\"seq\":null}"), 400, "invalid_request");
        await AssertProblemAsync(await PostRawAsync(http, "v1/conversations/direct", "{\"userId\":null}"), 400, "invalid_request");
        await AssertProblemAsync(await PostRawAsync(http, "v1/conversations/direct", "{\"userId\":\"u0000000000000000000000000000000a\"}"), 404, "user_not_found");
        await AssertProblemAsync(await PostRawAsync(http, "v1/conversations/direct", "{\"userId\":\"not-an-id\"}"), 404, "user_not_found");
        await AssertProblemAsync(await PostRawAsync(http, "v1/conversations/direct", $"{{\"userId\":\"{alice.Id}\"}}"), 400, "invalid_request");
        await AssertProblemAsync(await http.GetAsync("v1/users/by-username/nobody-" + Guid.NewGuid().ToString("N")[..8]), 404, "user_not_found");
        await AssertProblemAsync(await http.GetAsync($"v1/conversations/{conversation}/messages?limit=1000"), 400, "out_of_range");
        await AssertProblemAsync(await http.GetAsync($"v1/conversations/{conversation}/messages?before=3&after=1"), 400, "invalid_request");
        await AssertProblemAsync(await http.GetAsync("v1/sync?after=5"), 400, "out_of_range");
        await AssertProblemAsync(await http.GetAsync("v1/no-such-thing"), 404, "not_found");
        Assert.Equal(0, (await Chat.Http(Url, alice.Sessions[0]).GetHistoryAsync(conversation)).LastSeq);
    }

    [Fact]
    public async Task Rest_ValuesTheFrameworkCannotRead_GetTheDocumentedCodes_InOurWords()
    {
        var (alice, _, conversation) = await PairAsync();
        using var http = new HttpClient { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Sessions[0].Token);

        // A JSON body sent without any Content-Type, and no body at all.
        var untyped = new StringContent("""{"clientMsgId":"k1","text":"hi"}""", Encoding.UTF8);
        untyped.Headers.ContentType = null;
        await AssertProblemAsync(await http.PostAsync($"v1/conversations/{conversation}/messages", untyped), 415, "invalid_request");
        await AssertProblemAsync(await PostRawAsync(http, $"v1/conversations/{conversation}/messages", ""), 400, "invalid_request");

        // Every numeric query parameter: a number too large for any of its values is out of range, text is invalid.
        foreach (var (path, name) in new[]
        {
            ("v1/sync", "after"), ("v1/sync", "limit"), ("v1/poll", "after"), ("v1/poll", "limit"), ("v1/poll", "wait"),
            ($"v1/conversations/{conversation}/messages", "before"), ($"v1/conversations/{conversation}/messages", "after"),
            ($"v1/conversations/{conversation}/messages", "limit"),
        })
        {
            var huge = name switch { "limit" => "10000000000", "wait" => "1e999", _ => "99999999999999999999" };
            await AssertProblemAsync(await http.GetAsync($"{path}?{name}={huge}"), 400, "out_of_range");
            await AssertProblemAsync(await http.GetAsync($"{path}?{name}=ten"), 400, "invalid_request");
        }
        // An empty value is no value, as before.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/sync?after=&limit=")).StatusCode);

        // The socket reads page sizes as 64-bit too, so a huge one is out of range there as well.
        await using var socket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);
        await socket.SendTextAsync($$"""{"type":"history","id":"h1","conversationId":"{{conversation}}","limit":10000000000}""");
        Assert.Equal("h1", (await socket.ExpectErrorAsync("out_of_range")).GetProperty("id").GetString());
        Assert.Equal(0, (await Chat.Http(Url, alice.Sessions[0]).GetHistoryAsync(conversation)).LastSeq);
    }

    [Fact]
    public async Task Accounts_BadRegistrationsAndLogins_AreRefused()
    {
        using var http = new MessengerHttpClient(Url);
        var username = Chat.NewUsername();
        await http.RegisterAsync(username, "long enough password");
        Assert.Equal("username_taken", (await Assert.ThrowsAsync<MessengerClientException>(() => http.RegisterAsync(username.ToUpperInvariant(), "another password"))).Code);
        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<MessengerClientException>(() => http.RegisterAsync("a b", "long enough password"))).Code);
        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<MessengerClientException>(() => http.RegisterAsync(Chat.NewUsername(), "short"))).Code);
        var wrong = await Assert.ThrowsAsync<MessengerClientException>(() => http.LoginAsync(username, "wrong password"));
        Assert.Equal(("invalid_credentials", 401), (wrong.Code, wrong.HttpStatus));
        Assert.Equal("invalid_credentials", (await Assert.ThrowsAsync<MessengerClientException>(() => http.LoginAsync("nobody-" + username, "whatever1"))).Code);
        var session = await http.LoginAsync(username.ToUpperInvariant(), "long enough password");
        Assert.Equal(username, session.Username);
    }

    [Fact]
    public async Task BadTokens_AreRefused_OnRestAndSocket()
    {
        var alice = await Chat.NewUserAsync(Url);
        using var http = new HttpClient { BaseAddress = Url };
        await AssertProblemAsync(await http.GetAsync("v1/me"), 401, "unauthorized");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.token");
        await AssertProblemAsync(await http.GetAsync("v1/me"), 401, "unauthorized");
        // A token with one byte of its signature changed.
        var token = alice.Sessions[0].Token;
        var tampered = token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tampered);
        await AssertProblemAsync(await http.GetAsync("v1/me"), 401, "unauthorized");

        using var socket = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"ws://{Url.Authority}/v1/ws?access_token={tampered}"), CancellationToken.None));
        Assert.Contains("401", refused.Message);
    }

    [Fact]
    public async Task TokenOfAUserThatDoesNotExist_IsUnauthorized_AtTheHandshakeAndThePoll()
    {
        var key = TestTokens.SigningKeyOf(fixture.Server);
        var alice = await Chat.NewUserAsync(Url);
        using var http = new HttpClient { BaseAddress = Url };
        // The test's tokens are genuine: one for a user that exists works.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Sign(key, alice.Id, "d1", alice.Username));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/me")).StatusCode);

        // One for a user that does not exist (a deleted account) is a token that no longer works.
        var ghost = TestTokens.Sign(key, TestTokens.UnknownUserId(), "d1");
        var (status, head, body) = await RawHttp.SendAsync(Url,
            $"GET /v1/ws?access_token={ghost} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n"
            + $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\n\r\n");
        Assert.True(status == 401, $"{status}: {body}");
        Assert.Contains("application/problem+json", head, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"unauthorized\"", body, StringComparison.Ordinal);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ghost);
        await AssertProblemAsync(await http.GetAsync("v1/poll?wait=0"), 401, "unauthorized");
        await AssertProblemAsync(await http.PutAsync("v1/poll/presence", new StringContent("""{"userIds":[]}""", Encoding.UTF8, "application/json")), 401, "unauthorized");
    }

    internal static Task<HttpResponseMessage> PostRawAsync(HttpClient http, string path, string body) =>
        http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    /// <summary>Asserts a problem+json answer with this status and code; returns its detail.</summary>
    internal static async Task<string> AssertProblemAsync(HttpResponseMessage response, int status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(code, doc.RootElement.GetProperty("code").GetString());
        Assert.Equal(status, doc.RootElement.GetProperty("status").GetInt32());
        Assert.StartsWith("https://", doc.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        // The framework's own words (its type and parameter names) never reach a client.
        var detail = doc.RootElement.TryGetProperty("detail", out var value) ? value.GetString() ?? "" : "";
        foreach (var word in new[] { "bind", "Nullable", "parameter", "Expected a supported", "Implicit body" })
        {
            Assert.DoesNotContain(word, detail, StringComparison.OrdinalIgnoreCase);
        }
        return detail;
    }
}

/// <summary>The service documents itself and reports health.</summary>
[Collection(ServerCollection.Name)]
public sealed class DiscoveryTests(SqliteServerFixture fixture)
{
    [Fact]
    public async Task OpenApiDocument_ListsTheRestApi_AndHealthzAnswers()
    {
        using var http = new HttpClient { BaseAddress = fixture.Url };
        using var doc = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/v1/accounts", "/v1/sessions", "/v1/conversations/direct", "/v1/conversations",
                     "/v1/conversations/{conversationId}/messages", "/v1/conversations/{conversationId}/read", "/v1/sync" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI document lacks {path}");
        }
        Assert.Equal("""{"status":"ok"}""", await http.GetStringAsync("healthz"));
    }
}
