using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Messenger.Gateway.Endpoints;
using Messenger.Gateway.Protocol;
using Messenger.Grains;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// One connected device, whatever the transport: turns inbound frames into grain calls and queues
/// outbound frames. The queue is bounded in two parts. Replies: every inbound frame is answered once
/// (a reply or an error) and holds one of <see cref="Hosting.GatewayOptions.MaxInFlightPerConnection"/>
/// slots from when it is read until that answer is written, so a client that does not read its replies
/// stops being read instead of filling the queue. Pushes: at most
/// <see cref="Hosting.GatewayOptions.OutboundQueueFrames"/> wait; past that the session is marked slow
/// and the transport closes it (the client reconnects and syncs). Memory never grows without bound.
/// </summary>
public sealed class ClientSession
{
    private readonly OutboundQueue _outbound = new(); // unbounded itself: the counts above admit what it holds
    private readonly int _pushCapacity;
    private int _queuedPushes;
    private readonly GrainReferences _grains;
    private readonly GatewayNode _node;
    private readonly SemaphoreSlim _inFlight;
    private readonly CancellationTokenSource _closed = new();
    private readonly ILogger _logger;
    private int _shuttingDown; // 1 once shutting down; set with a full fence (see StopTakingRequestsAsync)
    private int _requests; // requests in progress, for a drain to wait on
    // Both signals are made only when first needed (a shutdown's drain, a wait for the end): a connected
    // session holds neither.
    private TaskCompletionSource? _idle;
    private TaskCompletionSource? _ended;
    private int _hasEnded;

    /// <summary>A long-poll device's session: a push only wakes its poll, which fetches the updates itself.</summary>
    public bool Polled { get; init; }

    public ClientSession(string userId, string deviceId, long generation, GatewayNode node, Hosting.GatewayOptions options, ILogger logger)
    {
        UserId = userId;
        DeviceId = deviceId;
        Generation = generation;
        _node = node;
        _grains = node.Grains;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxInFlightPerConnection);
        _pushCapacity = options.OutboundQueueFrames;
    }

    public string ConnectionId { get; } = Guid.CreateVersion7().ToString("N");
    public string UserId { get; }
    public string DeviceId { get; }

    /// <summary>For a long poll: waits until a frame is queued; false once nothing more will be.</summary>
    public Task<bool> WaitToReadAsync(CancellationToken cancellationToken) => _outbound.WaitToReadAsync(cancellationToken);

    /// <summary>
    /// For a socket: <paramref name="writer"/> is called whenever a frame is queued, the queue completes or the session
    /// turns out a slow consumer (and once at once), on the caller's thread; it writes what <see cref="TryRead"/> gives
    /// until <see cref="IsWriterIdle"/>.
    /// </summary>
    public void StartWriting(Action writer) => _outbound.StartWriting(writer);

    /// <summary>Nothing to write and more may come: the writer may stop until it is called again.</summary>
    public bool IsWriterIdle => _outbound.IsIdle;

    /// <summary>Nothing more will be queued and everything queued was taken: the writer closes the socket.</summary>
    public bool IsQueueFinished => _outbound.IsFinished;

    /// <summary>The next frame to write, in order; a push's room in the queue is free again from here.</summary>
    public bool TryRead(out OutboundFrame frame)
    {
        if (!_outbound.TryTake(out frame)) return false;
        if (!frame.IsReply) Interlocked.Decrement(ref _queuedPushes);
        return true;
    }

    /// <summary>The transport wrote <paramref name="frame"/>: a reply frees its request's in-flight slot.</summary>
    public void Written(OutboundFrame frame)
    {
        if (frame.IsReply) _inFlight.Release();
    }

    /// <summary>The login generation of the token the session was opened with.</summary>
    public long Generation { get; }

    /// <summary>True once the device was logged out (or the account deleted): the transport closes it with <c>logged_out</c>.</summary>
    public bool IsLoggedOut => Volatile.Read(ref _loggedOut) == 1;

    private int _loggedOut;

    /// <summary>
    /// The device was logged out: nothing more is queued, requests in progress lose their replies, and the
    /// transport closes the session (a socket with 4001 <c>logged_out</c>, a waiting poll with 401).
    /// </summary>
    public void LogOut()
    {
        if (Interlocked.Exchange(ref _loggedOut, 1) == 1) return;
        _logger.LogInformation("Connection {ConnectionId} of {UserId}: device {DeviceId} was logged out; closing", ConnectionId, UserId, DeviceId);
        CompleteQueue();
    }

    // Nothing more is queued; the transport writes what is queued, then closes.
    private void CompleteQueue() => _outbound.Complete();

    /// <summary>Cancelled when the session must end (slow consumer or shutdown).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>True when the session ended because its queue overflowed.</summary>
    public bool IsSlowConsumer => Volatile.Read(ref _slowConsumer) != 0;

    private int _slowConsumer;

    /// <summary>True once the gateway is shutting down this session: the transport closes it with <c>server_shutdown</c>.</summary>
    public bool IsShuttingDown => Volatile.Read(ref _shuttingDown) == 1;

    /// <summary>Completes when the transport is done with the session and it is detached.</summary>
    public Task Ended
    {
        get
        {
            // Interlocked on both sides (the signal made here, the flag set by MarkEnded), each then reading the
            // other's: with full fences one of them sees the other, so the signal cannot miss an end.
            var ended = LazyInitializer.EnsureInitialized(ref _ended, NewSignal);
            if (HasEnded) ended.TrySetResult();
            return ended.Task;
        }
    }

    /// <summary>True once the transport is done with the session and it is detached.</summary>
    public bool HasEnded => Volatile.Read(ref _hasEnded) == 1;

    /// <summary>Called by the transport's host once the session is detached.</summary>
    public void MarkEnded()
    {
        Interlocked.Exchange(ref _hasEnded, 1);
        Volatile.Read(ref _ended)?.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TaskCompletionSource Idle => LazyInitializer.EnsureInitialized(ref _idle, NewSignal);

    /// <summary>
    /// First step of a shutdown: requests that arrive from now on are answered <c>unavailable</c> (the
    /// client sends them again after reconnecting); the task completes once every request already in
    /// progress has its reply queued.
    /// </summary>
    public Task StopTakingRequestsAsync()
    {
        // Interlocked on both sides: the request side counts itself, then reads the flag; this side sets
        // the flag, then reads the count. With full fences one of them sees the other.
        Interlocked.Exchange(ref _shuttingDown, 1);
        var idle = Idle;
        if (Volatile.Read(ref _requests) == 0) idle.TrySetResult();
        return idle.Task;
    }

    /// <summary>
    /// Second step of a shutdown: nothing more is queued; the transport writes what is queued, then
    /// closes the connection telling the client to reconnect elsewhere.
    /// </summary>
    public void FinishShutdown()
    {
        Interlocked.Exchange(ref _shuttingDown, 1);
        CompleteQueue();
    }

    private List<byte[]>? _early = [];
    private readonly Lock _helloLock = new();

    /// <summary>
    /// Queues the hello frame, then any push that arrived before it, so a client always sees hello first
    /// (a polling device has no hello: null only releases the pushes).
    /// </summary>
    public void EnqueueHello(HelloFrame? hello)
    {
        lock (_helloLock)
        {
            if (hello is not null) Enqueue(WireJson.ToUtf8Bytes(hello, WireJson.Context.HelloFrame));
            foreach (var frame in _early!) Enqueue(frame);
            _early = null;
        }
    }

    /// <summary>Queues a pushed frame (updates, presence, typing); held back until hello is queued.</summary>
    public void EnqueuePush(byte[] frame)
    {
        if (_early is not null)
        {
            lock (_helloLock)
            {
                if (_early is not null)
                {
                    _early.Add(frame);
                    return;
                }
            }
        }
        Enqueue(frame);
    }

    /// <summary>Queues a pushed frame (or hello) in the pushes' room; on overflow marks the session slow and closes it.</summary>
    private void Enqueue(byte[] frame)
    {
        if (Interlocked.Increment(ref _queuedPushes) <= _pushCapacity && _outbound.TryAdd(new OutboundFrame(frame, IsReply: false))) return;
        Interlocked.Decrement(ref _queuedPushes);
        if (_closed.IsCancellationRequested || _outbound.IsCompleted) return; // closing anyway: a late push is simply dropped
        // Pushes come from several threads at once: the first to overflow marks the session and closes it, once.
        if (Interlocked.Exchange(ref _slowConsumer, 1) == 0)
        {
            _logger.LogWarning("Connection {ConnectionId} of {UserId} is a slow consumer; closing it", ConnectionId, UserId);
            _closed.Cancel();
            _outbound.WakeWriter(); // it closes the socket
        }
    }

    /// <summary>
    /// Queues the answer to a frame, which holds an in-flight slot: it always fits, as at most that many
    /// exist. Dropped once the session is closing (the slot goes with it).
    /// </summary>
    private void Reply(byte[] frame) => _outbound.TryAdd(new OutboundFrame(frame, IsReply: true));

    private void ReplyError(string? id, ErrorCode code, string message)
    {
        ErrorMapping.Count(code);
        Reply(WireJson.ToUtf8Bytes(new ErrorFrame("error", id, code.ToWire(), message), WireJson.Context.ErrorFrame));
    }

    /// <summary>Ends the session: no more frames are written.</summary>
    public void Complete()
    {
        _closed.Cancel();
        _outbound.Complete();
    }

    private static readonly JsonTypeInfo<ClientFrame> ReadClientFrame = (JsonTypeInfo<ClientFrame>)WireStrings.Reading.GetTypeInfo(typeof(ClientFrame));

    /// <summary>
    /// Handles one inbound text frame. Requests are started in arrival order and may complete out of order;
    /// reading waits while too many are unanswered (in progress, or their answer not yet written).
    /// </summary>
    public async Task HandleFrameAsync(ReadOnlyMemory<byte> utf8)
    {
        await _inFlight.WaitAsync(_closed.Token);
        // The device was logged out: its token is refused everywhere, so nothing it still sends on this
        // socket, which is closing with 4001, may reach the grains (nor get a reply: the queue is complete).
        if (IsLoggedOut) return;
        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize(utf8.Span, ReadClientFrame);
        }
        catch (JsonException)
        {
            ReplyError(null, ErrorCode.MalformedJson, "the frame is not valid JSON.");
            return;
        }
        catch (MessengerException ex)
        {
            // Valid JSON holding a value no request may carry (WireStrings): read again without the check for its id.
            ReplyError(JsonSerializer.Deserialize(utf8.Span, WireJson.Context.ClientFrame)?.Id, ex.Code, ex.Detail);
            return;
        }
        if (frame?.Type is null)
        {
            ReplyError(frame?.Id, ErrorCode.InvalidRequest, "'type' is required.");
            return;
        }
        // Counted before the shutdown flag is read, so a drain either sees this request or it sees the flag.
        Interlocked.Increment(ref _requests);
        if (IsShuttingDown)
        {
            EndRequest();
            ReplyError(frame.Id, ErrorCode.Unavailable, "this gateway is shutting down; reconnect (to another gateway) and send the request again.");
            return;
        }
        Task work;
        try
        {
            work = Dispatch(frame);
        }
        catch (Exception ex)
        {
            work = Task.FromException(ex);
        }
        _ = CompleteAsync(frame.Id, work);
    }

    private Task Dispatch(ClientFrame f) => f.Type switch
    {
        "send" => ReplyAsync(f.Id, Requests.SendAsync(_grains, UserId, f.ConversationId, f.ClientMsgId, f.Text),
            static (id, a) => WireJson.ToUtf8Bytes(a.ToAckFrame(id), WireJson.Context.AckFrame)),
        "sync" => ReplyAsync(f.Id, Requests.SyncAsync(_grains, UserId, f.After, f.Limit),
            static (id, p) => WireJson.ToUtf8Bytes(new SyncResultFrame("sync_result", id, p.Updates.ToWire(),
                p.HasMore, p.LastUserSeq), WireJson.Context.SyncResultFrame)),
        "history" => ReplyAsync(f.Id, Requests.HistoryAsync(_grains, UserId, f.ConversationId, f.Before, f.After, f.Limit),
            (id, p) => WireJson.ToUtf8Bytes(new HistoryResultFrame("history_result", id, f.ConversationId!,
                p.Messages.ToWire(), p.HasMore, p.LastSeq), WireJson.Context.HistoryResultFrame)),
        "read" => ReplyAsync(f.Id, Requests.MarkReadAsync(_grains, UserId, f.ConversationId, f.Seq),
            (id, readSeq) => WireJson.ToUtf8Bytes(new ReadResultFrame("read_result", id, f.ConversationId!, readSeq),
                WireJson.Context.ReadResultFrame)),
        "presence_query" => ReplyAsync(f.Id, Requests.QueryPresenceAsync(_grains, UserId, f.UserIds), PresenceResult),
        "presence_subscribe" => ReplyAsync(f.Id, _node.SubscribePresenceAsync(this, f.UserIds), PresenceResult),
        "typing" => ReplyAsync(f.Id, Requests.TypingAsync(_grains, UserId, f.ConversationId),
            static id => WireJson.ToUtf8Bytes(new TypingResultFrame("typing_result", id), WireJson.Context.TypingResultFrame)),
        "mute" => ReplyAsync(f.Id, Requests.MuteAsync(_grains, UserId, f.ConversationId, f.Muted, f.Until),
            (id, until) => WireJson.ToUtf8Bytes(new MuteResultFrame("mute_result", id, f.ConversationId!, until), WireJson.Context.MuteResultFrame)),
        "group_create" => ReplyAsync(f.Id, Requests.CreateGroupAsync(_grains, UserId, f.Title, f.UserIds), GroupResult),
        "group_add" => ReplyAsync(f.Id, Requests.AddMembersAsync(_grains, UserId, f.ConversationId, f.UserIds), GroupResult),
        "group_remove" => ReplyAsync(f.Id, Requests.RemoveMemberAsync(_grains, UserId, f.ConversationId, f.UserId), GroupResult),
        "group_leave" => ReplyAsync(f.Id, Requests.LeaveAsync(_grains, UserId, f.ConversationId), GroupResult),
        "group_rename" => ReplyAsync(f.Id, Requests.RenameAsync(_grains, UserId, f.ConversationId, f.Title), GroupResult),
        "group_role" => ReplyAsync(f.Id, Requests.SetRoleAsync(_grains, UserId, f.ConversationId, f.UserId, f.Role), GroupResult),
        "ping" => ReplyAsync(f.Id, Task.FromResult(0),
            static (id, _) => WireJson.ToUtf8Bytes(new PongFrame("pong", id), WireJson.Context.PongFrame)),
        _ => throw new MessengerException(ErrorCode.UnknownFrameType, $"unknown frame type '{f.Type}'."),
    };

    private static byte[] GroupResult(string? id, GroupChange change)
    {
        var wire = change.ToWire();
        return WireJson.ToUtf8Bytes(new GroupResultFrame("group_result", id, wire.Conversation, wire.Events), WireJson.Context.GroupResultFrame);
    }

    private static byte[] PresenceResult(string? id, PresenceStatus[] statuses) =>
        WireJson.ToUtf8Bytes(new PresenceResultFrame("presence_result", id, statuses.ToWire()), WireJson.Context.PresenceResultFrame);

    /// <summary>Answers a frame the transport could not hand over (too large, binary) with an error, as any frame is answered.</summary>
    public async Task RefuseFrameAsync(ErrorCode code, string message)
    {
        await _inFlight.WaitAsync(_closed.Token);
        ReplyError(null, code, message);
    }

    private async Task ReplyAsync(string? id, Task call, Func<string?, byte[]> serialize)
    {
        await call;
        Reply(serialize(id));
    }

    private async Task ReplyAsync<T>(string? id, Task<T> call, Func<string?, T, byte[]> serialize)
    {
        var result = await call;
        Reply(serialize(id, result));
    }

    private async Task CompleteAsync(string? id, Task work)
    {
        try
        {
            await work;
        }
        catch (Exception ex)
        {
            var (code, message) = ErrorMapping.Classify(ex);
            if (code == ErrorCode.Internal) _logger.LogError(ex, "Frame {Id} of {UserId} failed", id, UserId);
            ReplyError(id, code, message);
        }
        finally
        {
            EndRequest(); // answered; its slot is freed once the answer is written (Written)
        }
    }

    private void EndRequest()
    {
        if (Interlocked.Decrement(ref _requests) == 0 && IsShuttingDown) Idle.TrySetResult();
    }
}
