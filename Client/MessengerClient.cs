using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Messenger.Client;

/// <summary>
/// One device's real-time connection. Delivers the user's updates exactly once and in
/// <c>userSeq</c> order on <see cref="Updates"/>, whatever happens to the socket: it reconnects on its
/// own, catches up from its cursor with <c>sync</c>, and syncs whenever a live push reveals a gap.
/// Requests in flight when a socket drops are sent again after the reconnect (sends are idempotent
/// on their <c>clientMsgId</c>).
/// </summary>
public sealed partial class MessengerClient : IAsyncDisposable
{
    private readonly Uri[] _wsUris;
    private int _server;
    private long _retries;
    private readonly MessengerClientOptions _options;
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);
    private readonly Channel<Update> _updates = Channel.CreateUnbounded<Update>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Channel<Presence> _presence = Channel.CreateUnbounded<Presence>();
    private readonly LatestPresence _latestPresence = new();
    private readonly Channel<TypingChange> _typing = Channel.CreateUnbounded<TypingChange>();
    private readonly Channel<InFrame?> _inbox = Channel.CreateUnbounded<InFrame?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _firstConnect = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClientWebSocket? _socket;
    private long _nextId;
    private long _cursor;
    private Task _connectionLoop = Task.CompletedTask;
    private Task _applyLoop = Task.CompletedTask;

    private readonly Uri[] _servers;
    private readonly string _token;
    private volatile LongPollTransport? _poll; // set once the client long-polls

    private MessengerClient(Uri server, string token, MessengerClientOptions options)
    {
        _servers = [server, .. options.AlternateServers];
        _token = token;
        if (options.Transport == ClientTransport.LongPoll) _poll = new LongPollTransport(_servers, token);
        _wsUris = [.. new[] { server }.Concat(options.AlternateServers).Select(s =>
            new Uri($"{(s.Scheme == "https" ? "wss" : "ws")}://{s.Authority}/v1/ws?access_token={Uri.EscapeDataString(token)}"))];
        _options = options;
        _cursor = options.InitialCursor;
    }

    /// <summary>Connects, waits for the first hello, and starts catching up from the cursor.</summary>
    public static async Task<MessengerClient> ConnectAsync(Uri server, string token, MessengerClientOptions? options = null, CancellationToken ct = default)
    {
        options ??= new MessengerClientOptions();
        if (options.SyncPageSize is < 1 or > 500)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SyncPageSize must be 1..500 (every server accepts 500).");
        }
        var client = new MessengerClient(server, token, options);
        client._applyLoop = client.ApplyLoopAsync();
        client._connectionLoop = client.ConnectionLoopAsync();
        await client._firstConnect.Task.WaitAsync(ct);
        return client;
    }

    /// <summary>The user id the server reported in its hello.</summary>
    public string UserId { get; private set; } = "";

    /// <summary>The device id of the token.</summary>
    public string DeviceId { get; private set; } = "";

    /// <summary>The largest frame the server accepts, from its hello (0 before one, and over long-poll).</summary>
    public int MaxFrameBytes { get; private set; }

    /// <summary>The last applied userSeq: every update up to it has been written to <see cref="Updates"/>.</summary>
    public long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>The user's updates, each exactly once, in userSeq order.</summary>
    public ChannelReader<Update> Updates => _updates.Reader;

    /// <summary>Presence changes of the users this device subscribed to.</summary>
    public ChannelReader<Presence> PresenceChanges => _presence.Reader;

    /// <summary>Typing starts and stops of other members.</summary>
    public ChannelReader<TypingChange> TypingChanges => _typing.Reader;

    /// <summary>How many times the socket has been (re)opened, or a long-poll succeeded after none had.</summary>
    public int Connections { get; private set; }

    /// <summary>The transport in use now: <see cref="ClientTransport.WebSocket"/> or <see cref="ClientTransport.LongPoll"/>.</summary>
    public ClientTransport ActiveTransport => _poll is null ? ClientTransport.WebSocket : ClientTransport.LongPoll;

    /// <summary>Errors the server reported without a request id (e.g. an unparsable frame).</summary>
    public event Action<MessengerClientException>? ServerError;

    /// <summary>Closes the current socket abruptly, as a network failure would; the client reconnects.</summary>
    public void DropConnection() => _socket?.Abort();

    /// <summary>Sends a message; returns once it is durable. The clientMsgId defaults to a new GUID.</summary>
    public async Task<Ack> SendAsync(string conversationId, string text, string? clientMsgId = null, CancellationToken ct = default)
    {
        var f = await RequestAsync(new OutFrame { Type = "send", ConversationId = conversationId, Text = text, ClientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N") }, ct);
        return new Ack(f.ConversationId!, f.Seq, f.UserSeq, f.ClientMsgId!, f.SentAt, f.Duplicate, f.OfflineRecipients ?? []);
    }

    /// <summary>The presence of users this user shares a conversation with.</summary>
    public async Task<IReadOnlyList<Presence>> QueryPresenceAsync(IReadOnlyList<string> userIds, CancellationToken ct = default) =>
        (await RequestAsync(new OutFrame { Type = "presence_query", UserIds = [.. userIds] }, ct)).Users ?? [];

    /// <summary>
    /// Replaces this device's presence subscription (an empty list ends it); returns the current presence
    /// of each. Changes then arrive on <see cref="PresenceChanges"/>. After a reconnect, subscribe again.
    /// A change pushed while the request was on its way is newer than the server's answer, and replaces
    /// it in what this returns.
    /// </summary>
    public async Task<IReadOnlyList<Presence>> SubscribePresenceAsync(IReadOnlyList<string> userIds, CancellationToken ct = default)
    {
        var begun = _latestPresence.Begin(userIds);
        var answer = (await RequestAsync(new OutFrame { Type = "presence_subscribe", UserIds = [.. userIds] }, ct)).Users ?? [];
        return _latestPresence.Merge(answer, begun);
    }

    private void OnPresence(Presence presence)
    {
        _latestPresence.Pushed(presence);
        _presence.Writer.TryWrite(presence);
    }

    /// <summary>Signals that this user is typing in a conversation (renew every few seconds while typing).</summary>
    public Task SendTypingAsync(string conversationId, CancellationToken ct = default) =>
        RequestAsync(new OutFrame { Type = "typing", ConversationId = conversationId }, ct);

    /// <summary>A page of history (neither cursor: the newest page).</summary>
    public async Task<HistoryPage> GetHistoryAsync(string conversationId, long? before = null, long? after = null, int? limit = null, CancellationToken ct = default)
    {
        var f = await RequestAsync(new OutFrame { Type = "history", ConversationId = conversationId, Before = before, After = after, Limit = limit }, ct);
        return new HistoryPage(f.ConversationId!, f.Messages ?? [], f.HasMore, f.LastSeq);
    }

    /// <summary>Moves the read mark forward; returns the mark now in force.</summary>
    public async Task<long> MarkReadAsync(string conversationId, long seq, CancellationToken ct = default) =>
        (await RequestAsync(new OutFrame { Type = "read", ConversationId = conversationId, Seq = seq }, ct)).ReadSeq;

    /// <summary>One page of updates after a cursor (the client's own catch-up uses this too).</summary>
    public async Task<SyncPage> SyncAsync(long after, int? limit = null, CancellationToken ct = default)
    {
        var f = await RequestAsync(new OutFrame { Type = "sync", After = after, Limit = limit }, ct);
        return new SyncPage(f.Updates ?? [], f.HasMore, f.UserSeq);
    }

    /// <summary>Creates a group with this user as its owner (see <see cref="MessengerHttpClient.CreateGroupAsync"/>).</summary>
    /// <remarks>
    /// Group commands are requests like <see cref="GetHistoryAsync"/>: one that got no answer before the socket
    /// dropped goes out again after the reconnect. They have no idempotency key, so if the first had been carried
    /// out the second is refused (<c>already_member</c>, <c>member_not_found</c>, <c>not_member</c>), changes
    /// nothing (a role), or is done again (a create, a rename). The events arrive as updates on every member's devices.
    /// </remarks>
    public Task<GroupChange> CreateGroupAsync(string title, IReadOnlyList<string> userIds, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_create", Title = title, UserIds = [.. userIds] }, ct);

    /// <summary>Adds members to a group (admins and owners).</summary>
    public Task<GroupChange> AddMembersAsync(string conversationId, IReadOnlyList<string> userIds, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_add", ConversationId = conversationId, UserIds = [.. userIds] }, ct);

    /// <summary>Removes another member from a group (admins and owners).</summary>
    public Task<GroupChange> RemoveMemberAsync(string conversationId, string userId, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_remove", ConversationId = conversationId, UserId = userId }, ct);

    /// <summary>Leaves a group.</summary>
    public Task<GroupChange> LeaveGroupAsync(string conversationId, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_leave", ConversationId = conversationId }, ct);

    /// <summary>Renames a group (admins and owners).</summary>
    public Task<GroupChange> RenameGroupAsync(string conversationId, string title, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_rename", ConversationId = conversationId, Title = title }, ct);

    /// <summary>Gives a member of a group a role (one of <see cref="GroupRoles"/>); the role they have already changes nothing.</summary>
    public Task<GroupChange> SetRoleAsync(string conversationId, string userId, string role, CancellationToken ct = default) =>
        GroupCommandAsync(new OutFrame { Type = "group_role", ConversationId = conversationId, UserId = userId, Role = role }, ct);

    private async Task<GroupChange> GroupCommandAsync(OutFrame frame, CancellationToken ct)
    {
        var f = await RequestAsync(frame, ct);
        return new GroupChange(f.Conversation!, f.Events ?? []);
    }

    /// <summary>Round trip to the server.</summary>
    public Task PingAsync(CancellationToken ct = default) => RequestAsync(new OutFrame { Type = "ping" }, ct);

    /// <summary>Writes a raw text frame (for tests of the server's input handling).</summary>
    public Task SendRawAsync(string text, CancellationToken ct = default) =>
        WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct);

    /// <summary>How many times a request answered <c>unavailable</c> was sent again.</summary>
    public long UnavailableRetries => Interlocked.Read(ref _retries);

    // A request answered "unavailable" goes out again, unchanged but for its id, after a backoff.
    private async Task<InFrame> RequestAsync(OutFrame frame, CancellationToken ct)
    {
        if (IsLoggedOut) throw LoggedOutError();
        var deadline = DateTime.UtcNow + _options.RequestTimeout;
        var delay = _options.UnavailableRetryDelay;
        while (true)
        {
            try
            {
                return await RequestOnceAsync(frame, deadline - DateTime.UtcNow, ct);
            }
            catch (MessengerClientException e) when (e.Code == "logged_out")
            {
                EndLoggedOut(); // a request over REST (long-poll) heard it first
                throw;
            }
            catch (MessengerClientException e) when (e.Code == "unavailable" && DateTime.UtcNow + delay < deadline)
            {
                Interlocked.Increment(ref _retries);
                await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 50)), ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    private async Task<InFrame> RequestOnceAsync(OutFrame frame, TimeSpan timeout, CancellationToken ct)
    {
        if (_poll is { } poll) return await poll.RequestAsync(frame, timeout, _options.MinReconnectDelay, ct);
        frame.Id = "r" + Interlocked.Increment(ref _nextId);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, ClientJson.Default.OutFrame);
        var pending = new PendingRequest(bytes, frame);
        _pending[frame.Id] = pending;
        try
        {
            // The client switched to long-poll after the check above and may have missed this one: REST now.
            if (_poll is { } switched) return await switched.RequestAsync(frame, timeout, _options.MinReconnectDelay, ct);
            try { await WriteAsync(bytes, ct); }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // The socket is down; the request goes out again after the reconnect.
            }
            return await pending.Reply.Task.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, ct);
        }
        finally
        {
            _pending.TryRemove(frame.Id, out _);
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        await _sendLock.WaitAsync(ct);
        try { await socket.SendAsync(bytes, WebSocketMessageType.Text, true, ct); }
        finally { _sendLock.Release(); }
    }

    private async Task ConnectionLoopAsync()
    {
        var delay = _options.MinReconnectDelay;
        while (!_disposed.IsCancellationRequested)
        {
            if (_poll is not null)
            {
                await PollLoopAsync();
                return;
            }
            var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            var connected = false;
            var moveOn = false;
            var loggedOut = false;
            var refused = false;
            try
            {
                await socket.ConnectAsync(_wsUris[_server], _disposed.Token);
                connected = true;
                delay = _options.MinReconnectDelay;
                _socket = socket;
                Connections++;
                await ReceiveLoopAsync(socket);
                // A gateway that shuts down closes with 1012: go to the next gateway at once, no backoff.
                moveOn = socket.CloseStatus == ServiceRestart;
                loggedOut = socket.CloseStatus == LoggedOutStatus;
                if (moveOn || loggedOut) await AnswerCloseAsync(socket);
            }
            catch (WebSocketException) when (!connected && socket.HttpStatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                // The token was refused; a handshake cannot say why, REST can (below).
                refused = true;
            }
            catch (WebSocketException) when (!connected && _options.Transport == ClientTransport.Auto && BlockedOnTheWay(socket.HttpStatusCode))
            {
                // Something between us and the server does not pass WebSockets: long-poll from now on.
                SwitchToLongPoll();
                continue;
            }
            catch (Exception) when (!_disposed.IsCancellationRequested)
            {
                // Connection refused or dropped: back off and try again, at the next gateway if there are several.
                _server = (_server + 1) % _wsUris.Length;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            finally
            {
                if (connected && !_disposed.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref _downSince, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
                    Disconnected?.Invoke(socket.CloseStatus, socket.CloseStatusDescription);
                }
                socket.Dispose();
            }
            if (_disposed.IsCancellationRequested) break;
            if (loggedOut || (refused && await IsTokenLoggedOutAsync()))
            {
                EndLoggedOut();
                return;
            }
            if (refused) _server = (_server + 1) % _wsUris.Length; // as for any failed connect
            if (moveOn)
            {
                _server = (_server + 1) % _wsUris.Length;
                continue;
            }
            delay = await BackOffAsync(delay);
        }
    }

    /// <summary>Waits <paramref name="delay"/> plus jitter (less if disposed meanwhile); returns the next, doubled up to the maximum.</summary>
    private async Task<TimeSpan> BackOffAsync(TimeSpan delay)
    {
        await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 50)), _disposed.Token).ContinueWith(_ => { });
        return TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (socket.State == WebSocketState.Open)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), _disposed.Token);
                if (result.MessageType == WebSocketMessageType.Close) return;
                buffer.Advance(result.Count);
            }
            while (!result.EndOfMessage);
            var frame = JsonSerializer.Deserialize(buffer.WrittenSpan, ClientJson.Default.InFrame);
            if (frame is null) continue;
            switch (frame.Type)
            {
                case "hello":
                    MarkConnected();
                    UserId = frame.UserId ?? "";
                    MaxFrameBytes = frame.MaxFrameBytes;
                    DeviceId = frame.DeviceId ?? "";
                    HelloUserSeq = frame.UserSeq;
                    _inbox.Writer.TryWrite(null); // catch up from the cursor
                    // Requests that were in flight when the last socket dropped go out again.
                    foreach (var pending in _pending.Values)
                    {
                        _ = WriteAsync(pending.Frame, _disposed.Token).ContinueWith(_ => { });
                    }
                    _firstConnect.TrySetResult();
                    break;
                case "updates":
                    _inbox.Writer.TryWrite(frame);
                    break;
                case "presence":
                    foreach (var presence in frame.Users ?? []) OnPresence(presence);
                    break;
                case "typing" when frame.Id is null:
                    _typing.Writer.TryWrite(new TypingChange(frame.ConversationId ?? "", frame.UserId ?? "", frame.Typing, frame.ExpiresInMs));
                    break;
                case "error" when frame.Id is null:
                    ServerError?.Invoke(new MessengerClientException(frame.Code ?? "error", frame.Message ?? ""));
                    break;
                default:
                    if (frame.Id is not null && _pending.TryGetValue(frame.Id, out var request))
                    {
                        if (frame.Type == "error") request.Reply.TrySetException(new MessengerClientException(frame.Code ?? "error", frame.Message ?? ""));
                        else request.Reply.TrySetResult(frame);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// The one place updates are applied: a live push that continues the cursor is applied, an old
    /// one skipped, and a gap (or a new connection, the null marker) triggers a sync until caught up.
    /// </summary>
    private async Task ApplyLoopAsync()
    {
        try
        {
            await foreach (var frame in _inbox.Reader.ReadAllAsync(_disposed.Token))
            {
                if (frame is null)
                {
                    // A new connection: a cursor past the server's newest userSeq means the server's log was reset.
                    if (_cursor > HelloUserSeq) ResetCursor();
                    await CatchUpAsync();
                    continue;
                }
                foreach (var update in frame.Updates ?? [])
                {
                    if (update.UserSeq <= _cursor) continue;
                    if (update.UserSeq == _cursor + 1) Apply(update);
                    else await CatchUpAsync();
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task CatchUpAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                var page = await SyncAsync(_cursor, _options.SyncPageSize, _disposed.Token);
                foreach (var update in page.Updates)
                {
                    if (update.UserSeq == _cursor + 1) Apply(update);
                }
                if (!page.HasMore && _cursor >= page.UserSeq) return;
            }
            catch (MessengerClientException ex) when (ex.Code == "out_of_range" && _cursor > 0)
            {
                // The page size is within every server's limit (SyncPageSize ≤ 500), so it is the cursor.
                ResetCursor();
            }
            catch (Exception ex) when (ex is TimeoutException or MessengerClientException)
            {
                await Task.Delay(_options.MinReconnectDelay, _disposed.Token);
            }
        }
    }

    /// <summary>
    /// The server's log is behind this device's cursor (its data was reset): start over from 0, so the
    /// device gets the server's history again rather than waiting forever for numbers it already passed.
    /// </summary>
    private void ResetCursor()
    {
        Interlocked.Exchange(ref _cursor, 0);
        CursorReset?.Invoke();
    }

    /// <summary>Raised when the cursor went back to 0 because the server's log was behind it.</summary>
    public event Action? CursorReset;

    private long HelloUserSeq { get; set; }

    private void Apply(Update update)
    {
        _updates.Writer.TryWrite(update);
        Interlocked.Exchange(ref _cursor, update.UserSeq);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        foreach (var pending in _pending.Values)
        {
            pending.Reply.TrySetException(new ObjectDisposedException(nameof(MessengerClient)));
        }
        if (_socket is { State: WebSocketState.Open } socket)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try { await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token); }
            catch (Exception) { socket.Abort(); }
        }
        await Task.WhenAll(_connectionLoop, _applyLoop).ContinueWith(_ => { });
        _poll?.Dispose();
        _updates.Writer.TryComplete();
    }

    private sealed class PendingRequest(byte[] frame, OutFrame request)
    {
        public byte[] Frame { get; } = frame;
        public OutFrame Out { get; } = request;
        public TaskCompletionSource<InFrame> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
