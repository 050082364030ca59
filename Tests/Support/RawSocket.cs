using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Messenger.Tests.Support;

/// <summary>A bare WebSocket to the gateway, for frames no well-behaved client would send.</summary>
public sealed class RawSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();

    public WebSocket Socket => _socket;

    /// <param name="receiveBufferBytes">
    /// The TCP receive buffer of the client's socket (0: the system's, which grows to megabytes): a small one
    /// makes a client that does not read fill up after a few KiB, as a stuck phone's connection does.
    /// </param>
    public static async Task<RawSocket> ConnectAsync(Uri server, string token, int receiveBufferBytes = 0)
    {
        var raw = new RawSocket();
        var uri = new Uri($"ws://{server.Authority}/v1/ws?access_token={Uri.EscapeDataString(token)}");
        if (receiveBufferBytes == 0)
        {
            await raw._socket.ConnectAsync(uri, CancellationToken.None);
        }
        else
        {
            // Set before connecting, so the window is small from the start.
            using var handler = ShapedSockets.Handler(socket => socket.ReceiveBufferSize = receiveBufferBytes);
            await raw._socket.ConnectAsync(uri, new HttpMessageInvoker(handler, disposeHandler: false), CancellationToken.None);
        }
        var hello = await raw.ReceiveAsync();
        Assert.Equal("hello", hello.GetProperty("type").GetString());
        return raw;
    }

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>A text message of these bytes as they are (valid UTF-8 or not).</summary>
    public Task SendTextBytesAsync(byte[] bytes) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] bytes) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>The next frame as JSON; fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[256 * 1024];
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            result = await _socket.ReceiveAsync(buffer.AsMemory(length), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by server");
            length += result.Count;
        }
        while (!result.EndOfMessage);
        using var doc = JsonDocument.Parse(buffer.AsMemory(0, length));
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// Receives every frame until the server's Close (fails after <paramref name="timeout"/>); returns
    /// the frames and the close status and reason.
    /// </summary>
    public async Task<(List<JsonElement> Frames, WebSocketCloseStatus? Status, string? Reason)> ReceiveUntilCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var frames = new List<JsonElement>();
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                result = await _socket.ReceiveAsync(buffer.AsMemory(length), cts.Token);
                if (result.MessageType == WebSocketMessageType.Close) return (frames, _socket.CloseStatus, _socket.CloseStatusDescription);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            using var doc = JsonDocument.Parse(buffer.AsMemory(0, length));
            frames.Add(doc.RootElement.Clone());
        }
    }

    /// <summary>Receives until a frame of <paramref name="type"/> arrives (skipping pushes).</summary>
    public async Task<JsonElement> ReceiveTypeAsync(string type)
    {
        while (true)
        {
            var frame = await ReceiveAsync();
            if (frame.GetProperty("type").GetString() == type) return frame;
        }
    }

    /// <summary>Asserts the next non-push frame is an error with <paramref name="code"/>.</summary>
    public async Task<JsonElement> ExpectErrorAsync(string code)
    {
        var frame = await ReceiveTypeAsync("error");
        Assert.Equal(code, frame.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(frame.GetProperty("message").GetString()));
        return frame;
    }

    /// <summary>A ping round trip: the connection is still usable.</summary>
    public async Task AssertUsableAsync()
    {
        var id = Guid.NewGuid().ToString("N");
        await SendTextAsync($$"""{"type":"ping","id":"{{id}}"}""");
        var pong = await ReceiveTypeAsync("pong");
        Assert.Equal(id, pong.GetProperty("id").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            if (_socket.State == WebSocketState.Open) await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
        }
        catch (Exception) { _socket.Abort(); }
        _socket.Dispose();
    }
}
