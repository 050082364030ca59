using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Messenger.Client;

namespace Messenger.Tests.Support;

/// <summary>What a gateway answers a token on each way in: REST, the WebSocket handshake, long-poll.</summary>
public static class TokenChecks
{
    /// <summary>The token is refused with 401 and <paramref name="code"/> on REST, at the handshake and on a poll.</summary>
    public static async Task AssertRefusedEverywhereAsync(Uri server, string token, string code = "logged_out")
    {
        using var http = new MessengerHttpClient(server, token);
        var rest = await Assert.ThrowsAsync<MessengerClientException>(() => http.GetMeAsync());
        Assert.Equal((code, 401), (rest.Code, rest.HttpStatus));
        var poll = await Assert.ThrowsAsync<MessengerClientException>(() => http.PollAsync(0, wait: TimeSpan.Zero));
        Assert.Equal((code, 401), (poll.Code, poll.HttpStatus));
        Assert.Equal((HttpStatusCode.Unauthorized, code), await HandshakeAsync(server, token));
    }

    /// <summary>
    /// A WebSocket handshake with the token: its status (a browser sees no more), and the problem's code, read
    /// from the same request without the upgrade (the token is checked first, so it answers the same).
    /// </summary>
    public static async Task<(HttpStatusCode Status, string? Code)> HandshakeAsync(Uri server, string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new Uri($"ws://{server.Authority}/v1/ws?access_token={Uri.EscapeDataString(token)}");
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        using var http = new HttpClient { BaseAddress = server };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/ws");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(socket.HttpStatusCode, response.StatusCode);
        return (socket.HttpStatusCode, problem.RootElement.GetProperty("code").GetString());
    }
}
