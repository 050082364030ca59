using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Requests at the edges of HTTP itself, as a client written from docs/PROTOCOL.md sends them: long URLs,
/// the documented 500 presence ids, and the few requests the HTTP server refuses before the API sees them.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class HttpEdgeTests(SqliteServerFixture fixture)
{
    private Uri Url => fixture.Url;

    [Fact]
    public async Task LongPaths_ReachTheApi_AndGetProblemDetails()
    {
        var alice = await Chat.NewUserAsync(Url);
        using var http = new HttpClient { BaseAddress = Url };
        // 20,000 characters is far past Kestrel's default request line (8 KiB), still inside the gateway's.
        await BadInputTests.AssertProblemAsync(await http.GetAsync("v1/" + new string('a', 20_000)), 404, "not_found");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Sessions[0].Token);
        await BadInputTests.AssertProblemAsync(await http.GetAsync("v1/conversations/d:" + new string('a', 20_000) + "/messages"), 400, "invalid_request");
    }

    [Fact]
    public async Task PresenceQuery_TakesTheDocumentedFiveHundredIds_InTheUrlAndInABody()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url);
        var carol = await Chat.NewUserAsync(Url);
        await Chat.OpenDirectAsync(Url, alice, bob);
        using var http = new HttpClient { BaseAddress = Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Sessions[0].Token);
        // Repeats count against the limit before they are removed, so one contact makes a full list.
        var five = Enumerable.Repeat(bob.Id, 500).ToArray();
        var tooMany = Enumerable.Repeat(bob.Id, 501).ToArray();

        var url = "v1/presence?userIds=" + string.Join(',', five);
        Assert.True(url.Length > 16_000, $"the URL is only {url.Length} characters");
        Assert.Equal(bob.Id, await SingleUserAsync(await http.GetAsync(url)));
        await BadInputTests.AssertProblemAsync(await http.GetAsync("v1/presence?userIds=" + string.Join(',', tooMany)), 400, "out_of_range");

        Assert.Equal(bob.Id, await SingleUserAsync(await http.PostAsJsonAsync("v1/presence/query", new { userIds = five })));
        await BadInputTests.AssertProblemAsync(await http.PostAsJsonAsync("v1/presence/query", new { userIds = tooMany }), 400, "out_of_range");
        await BadInputTests.AssertProblemAsync(await http.PostAsJsonAsync("v1/presence/query", new { userIds = new[] { carol.Id } }), 403, "not_contact");
        await BadInputTests.AssertProblemAsync(await BadInputTests.PostRawAsync(http, "v1/presence/query", "{}"), 400, "invalid_request");
        using var empty = await http.PostAsJsonAsync("v1/presence/query", new { userIds = Array.Empty<string>() });
        Assert.Equal("""{"users":[]}""", await empty.Content.ReadAsStringAsync());
    }

    private static async Task<string?> SingleUserAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return Assert.Single(document.RootElement.GetProperty("users").EnumerateArray().ToArray()).GetProperty("userId").GetString();
    }

    /// <summary>
    /// What the HTTP server refuses before any of the API runs answers with a bare status, no body, and
    /// closes the connection, exactly as PROTOCOL.md section 4 lists: these are the only such answers.
    /// </summary>
    [Fact]
    public async Task RequestsTheHttpServerCannotParse_GetABareStatus_AsDocumented()
    {
        var alice = await Chat.NewUserAsync(Url);
        var auth = $"Authorization: Bearer {alice.Sessions[0].Token}\r\n";
        var (status, _, body) = await RawHttp.SendAsync(Url, $"GET /v1/conversations/d%00x HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
        Assert.Equal((400, ""), (status, body));
        // A NUL escaped in the query, by contrast, reaches the API, which answers with a problem.
        (status, var head, body) = await RawHttp.SendAsync(Url, $"GET /v1/sync?after=%00 HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
        Assert.Equal(400, status);
        Assert.Contains("application/problem+json", head, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"invalid_request\"", body, StringComparison.Ordinal);
    }
}
