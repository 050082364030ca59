using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Messenger.Bench.Relay;

/// <summary>
/// The machine's limit: a bare Kestrel WebSocket relay with no storage and no Orleans. Each
/// <c>send</c> is forwarded to its recipient as an <c>updates</c> frame shaped like the gateway's push,
/// and the sender gets a small <c>ack</c>, so the load generator does the same client-side work as
/// against the real server. Run as its own process (hidden verb <c>relay-server --port N</c>) so it
/// competes for the cores exactly like the gateway. Users connect with <c>/v1/ws?user=N</c>; the
/// conversation id of a send is the recipient's number.
/// </summary>
public static class RelayServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = args.Length == 2 && args[0] == "--port" ? int.Parse(args[1], CultureInfo.InvariantCulture)
            : throw new ArgumentException("usage: relay-server --port N");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        var hub = new RelayHub(app.Logger);
        app.MapGet("/healthz", () => "ok");
        app.Map("/v1/ws", hub.AcceptAsync);
        await app.RunAsync();
        return 0;
    }
}

internal sealed class RelayHub(ILogger logger)
{
    private readonly ConcurrentDictionary<int, RelayConnection> _connections = new();

    public ILogger Logger { get; } = logger;

    public async Task AcceptAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest
            || !int.TryParse(http.Request.Query["user"], NumberStyles.None, CultureInfo.InvariantCulture, out var user))
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var connection = new RelayConnection(user, socket, this);
        _connections[user] = connection;
        try
        {
            await connection.RunAsync();
        }
        finally
        {
            _connections.TryRemove(KeyValuePair.Create(user, connection));
        }
    }

    public RelayConnection? Find(int user) => _connections.TryGetValue(user, out var c) ? c : null;
}

/// <summary>One relay socket: a read loop that forwards, and a bounded outbound queue like the gateway's.</summary>
internal sealed class RelayConnection(int user, WebSocket socket, RelayHub hub)
{
    private const int OutboundFrames = 1024;
    private readonly Channel<(byte[] Buffer, int Length)> _outbound =
        Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(OutboundFrames) { SingleReader = true });
    private readonly ArrayBufferWriter<byte> _scratch = new(1024);
    private readonly CancellationTokenSource _closed = new();
    private long _userSeq;
    private long _seq;

    public async Task RunAsync()
    {
        var writer = WriteLoopAsync();
        using (var json = new Utf8JsonWriter(_scratch))
        {
            json.WriteStartObject();
            json.WriteString("type", "hello");
            json.WriteString("userId", user.ToString(CultureInfo.InvariantCulture));
            json.WriteString("deviceId", "bench");
            json.WriteNumber("userSeq", 0);
            json.WriteNumber("maxFrameBytes", 65536);
            json.WriteEndObject();
        }
        Enqueue(_scratch.WrittenSpan);
        try
        {
            await ReadLoopAsync();
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException) { }
        _outbound.Writer.TryComplete();
        await writer;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { socket.Abort(); }
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var json = new Utf8JsonWriter(_scratch);
        while (!_closed.IsCancellationRequested)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), _closed.Token);
                if (result.MessageType == WebSocketMessageType.Close) return;
                length += result.Count;
                if (length == buffer.Length) return; // larger than any bench frame: not ours
            }
            while (!result.EndOfMessage);
            Handle(buffer.AsSpan(0, length), json);
        }
    }

    private void Handle(ReadOnlySpan<byte> frame, Utf8JsonWriter json)
    {
        ReadOnlySpan<byte> type = default, id = default, conversation = default, clientMsgId = default, text = default;
        var reader = new Utf8JsonReader(frame);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1) continue;
            if (reader.ValueTextEquals("type"u8)) { reader.Read(); type = reader.ValueSpan; }
            else if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = reader.ValueSpan; }
            else if (reader.ValueTextEquals("conversationId"u8)) { reader.Read(); conversation = reader.ValueSpan; }
            else if (reader.ValueTextEquals("clientMsgId"u8)) { reader.Read(); clientMsgId = reader.ValueSpan; }
            else if (reader.ValueTextEquals("text"u8)) { reader.Read(); text = reader.ValueSpan; }
            else reader.Skip();
        }
        if (!type.SequenceEqual("send"u8)) return;
        var seq = ++_seq;
        if (System.Buffers.Text.Utf8Parser.TryParse(conversation, out int recipient, out _) && hub.Find(recipient) is { } target)
        {
            json.Reset(_scratch);
            _scratch.ResetWrittenCount();
            json.WriteStartObject();
            json.WriteString("type", "updates");
            json.WriteStartArray("updates");
            json.WriteStartObject();
            json.WriteNumber("userSeq", target.NextUserSeq());
            json.WriteString("kind", "message");
            json.WriteString("conversationId", conversation);
            json.WriteNumber("seq", seq);
            json.WriteStartObject("message");
            json.WriteString("conversationId", conversation);
            json.WriteNumber("seq", seq);
            json.WriteString("senderId", user.ToString(CultureInfo.InvariantCulture));
            json.WriteString("clientMsgId", clientMsgId);
            json.WriteString("text", text);
            json.WriteString("sentAt", DateTimeOffset.UtcNow);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.Flush();
            target.Enqueue(_scratch.WrittenSpan);
        }
        json.Reset(_scratch);
        _scratch.ResetWrittenCount();
        json.WriteStartObject();
        json.WriteString("type", "ack");
        json.WriteString("id", id);
        json.WriteString("conversationId", conversation);
        json.WriteNumber("seq", seq);
        json.WriteNumber("userSeq", NextUserSeq());
        json.WriteString("clientMsgId", clientMsgId);
        json.WriteString("sentAt", DateTimeOffset.UtcNow);
        json.WriteBoolean("duplicate", false);
        json.WriteEndObject();
        json.Flush();
        Enqueue(_scratch.WrittenSpan);
    }

    private long NextUserSeq() => Interlocked.Increment(ref _userSeq);

    /// <summary>Copies the frame into a pooled buffer and queues it; a full queue closes the socket (slow consumer).</summary>
    private void Enqueue(ReadOnlySpan<byte> frame)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(buffer);
        if (_outbound.Writer.TryWrite((buffer, frame.Length))) return;
        ArrayPool<byte>.Shared.Return(buffer);
        hub.Logger.LogWarning("Relay connection {User} is a slow consumer; closing it", user);
        _closed.Cancel();
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var (buffer, length) in _outbound.Reader.ReadAllAsync(_closed.Token))
            {
                await socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, _closed.Token);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException) { }
    }
}
