using Messenger.Grains.Delivery;
using Messenger.Grains.Hosting;
using Messenger.Grains.Presence;
using Messenger.Grains.Push;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Messenger.Grains.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// One user: their update log and conversation list (<see cref="UserLog"/>), their live side
/// (<see cref="UserPresence"/>), their devices and the account (<c>UserGrain.Devices.cs</c>), and the
/// push of each new update to every gateway holding one of their sockets. Calls run one at a time, so
/// <c>userSeq</c> is gapless by construction; memory changes only after the store has committed.
/// </summary>
public sealed partial class UserGrain : Grain, IUserGrain
{
    private readonly IAccountStore _accounts;
    private readonly IUserLogStore _logStore;
    private readonly IConversationStore _conversationStore;
    private readonly UpdatePusher _pusher;
    private readonly MessengerOptions _options;
    private readonly ILogger<UserGrain> _logger;
    private readonly UserLog _log;
    private readonly UserPresence _presence;
    private readonly IPersistentState<UserDevicesState> _devicesState;
    private readonly UserDevices _devices;
    private readonly DeviceWatchers _deviceWatchers;
    private readonly IPushOutboxStore _pushStore;
    private readonly PushSender _pushSender;
    private readonly PushOptions _pushOptions;
    private readonly PushOutbox _pushOutbox;
    private readonly ILogger _pushLog;
    private UserProfile? _profile;

    public UserGrain(IAccountStore accounts, IUserLogStore log, IConversationStore conversations, UpdatePusher pusher, IGrainFactory grains,
        [PersistentState("devices", MessengerSiloExtensions.GrainStateStorage)] IPersistentState<UserDevicesState> devices,
        IPushOutboxStore pushStore, PushSender pushSender, IOptions<PushOptions> pushOptions, GatewayLeases leases, OnlineUsers online,
        IOptions<MessengerOptions> options, IOptions<PresenceOptions> presence, TimeProvider time, ILogger<UserGrain> logger, ILoggerFactory loggers)
    {
        Id = this.GetPrimaryKeyString();
        _pushLog = loggers.CreateLogger(PushSender.LogCategory);
        _pushStore = pushStore;
        _pushSender = pushSender;
        _pushOptions = pushOptions.Value;
        _pushOutbox = new PushOutbox(_pushOptions);
        _accounts = accounts;
        _logStore = log;
        _conversationStore = conversations;
        _pusher = pusher;
        _options = options.Value;
        _logger = logger;
        _log = new UserLog(Id, log, conversations, _options.MarkSaveInterval, time, logger);
        _devicesState = devices;
        _devices = new UserDevices(devices.State, WriteDevicesAsync);
        // Devices whose sessions ended with their gateway were last active when the gateway was last heard from.
        _presence = new UserPresence(this, Id, grains, log, leases, online, presence.Value, time, _devices.Touch);
        _deviceWatchers = new DeviceWatchers(_options.DeviceLease);
    }

    // Orleans decodes a string key into a new string on every call: read once per activation (its presence helper shares it).
    private string Id { get; }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StorageFailureFilter.ActivateAsync(LoadAsync, _logger);
        }
        catch
        {
            // Loading the log may have asked for a checkpoint: an activation that failed must not keep retrying it.
            _log.Abandon();
            throw;
        }
    }

    private async Task LoadAsync()
    {
        // Orleans read the devices state before activation; the object it read is the one to use.
        _devices.Load(_devicesState.State);
        _profile = (await _accounts.FindAccountAsync(Id))?.Profile;
        if (_devices.Deleting)
        {
            // A deletion that did not finish (a crash, a failed step): finish it, after this activation is up.
            await _log.LoadAsync();
            ScheduleDeletionRetry(TimeSpan.Zero);
            return;
        }
        if (_profile is null) return;
        _presence.Stored = true;
        _presence.Devices.LastSeen = await _log.LoadAsync();
        await LoadPushAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var deviceId in _presence.Devices.LiveDevices()) _devices.Touch(deviceId, _presence.Now);
        _presence.Release(_deviceWatchers.Live(_presence.Now));
        await SettlePushAsync();
        await _log.CloseAsync();
        await FlushDevicesAsync();
    }

    public Task<UserProfile> GetProfileAsync() => Task.FromResult(EnsureExists());

    // ---- the update log ----

    public async Task<DeliveryReceipt> DeliverAsync(ConversationInfo conversation, IReadOnlyList<ChatMessage> messages, IReadOnlyList<MessageReceipt>? receipts)
    {
        // A user being deleted gets nothing: the call fails with user_deleted, and the conversation marks
        // them deleted itself (it may have been created after the deletion listed their conversations).
        EnsureNotGone();
        EnsureExists();
        var conversationId = conversation.ConversationId;
        var known = _log.Conversations.TryGet(conversationId, out var entry);
        if (!known) entry = new UserConversation(conversation, 0, 0);
        var userSeqs = new long[messages.Count];
        var pointers = new List<UpdatePointer>(messages.Count);
        var updates = new List<UserUpdate>(messages.Count);
        var next = _log.LastUserSeq;
        var membershipChanged = false;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Seq <= entry.LastSeq) continue; // a re-driven fan-out: already in the log
            userSeqs[i] = ++next;
            var pointer = new UpdatePointer(next, UpdateKind.Message, conversationId, message.Seq, message.SenderId == Id);
            pointers.Add(pointer);
            updates.Add(new UserUpdate(next, UpdateKind.Message, conversationId, message.Seq, message));
            entry = UserConversations.Applied(entry, pointer);
            if (message.Event is { } e)
            {
                membershipChanged = true;
                if (UserConversations.LeftAfter(e, message.SenderId, Id) is { } left) entry = entry with { Left = left };
            }
        }
        var delivered = pointers.Count;
        if (receipts is { Count: > 0 } && !entry.Left)
        {
            // After the messages: the counts may be of a message of this very batch.
            var pointer = new UpdatePointer(++next, UpdateKind.Receipts, conversationId, receipts[^1].Seq, FromSelf: false, receipts);
            pointers.Add(pointer);
            updates.Add(new UserUpdate(pointer.UserSeq, UpdateKind.Receipts, conversationId, pointer.Seq, null, receipts));
        }
        if (pointers.Count > 0)
        {
            // What a pointer cannot carry (a new entry, a title, leaving) is saved with it, in one transaction.
            if (membershipChanged || !known || !ReferenceEquals(entry.Conversation, conversation)) entry = entry with { Conversation = conversation };
            var pushes = PushRowsFor(messages, userSeqs, entry);
            try { await _log.WriteAsync(pointers, membershipChanged || !known ? [entry] : [], pushes); }
            catch (StoreConflictException ex) when (Stale(ex)) { }
            _log.Appended(pointers);
            MessengerMetrics.Delivered.Add(delivered);
            if (pointers.Count > delivered) MessengerMetrics.ReceiptUpdates.Add(1, MessengerMetrics.ByDelivery);
            _log.Conversations.Set(entry);
            TrackPushRows(pushes);
        }
        // One look at the sessions serves both the push and the receipt's liveness.
        var gateways = _presence.LiveGateways();
        _pusher.Push(gateways, Id, updates, ReceivedMark);
        // Only a direct conversation's acks name offline members; a group would discard the liveness reports.
        if (conversation.Kind == ConversationKind.Direct) _presence.Told(conversationId, gateways.Count > 0);
        return new DeliveryReceipt(userSeqs, gateways.Count > 0);
    }

    /// <summary>
    /// For an exception filter around a log write: a conflict means another activation of this user wrote first, so
    /// this one is stale and goes away (the caller retries on a fresh one, which reloads). Never handles the exception,
    /// which reaches the caller. (A filter rather than a helper that awaits the write: the write is the delivery's hot
    /// path, and each async layer is a continuation more per append.)
    /// </summary>
    private bool Stale(StoreConflictException ex)
    {
        _logger.LogWarning(ex, "User {UserId}: another activation wrote the update log; deactivating to reload", Id);
        DeactivateOnIdle();
        return false;
    }

    public async Task<long> MarkReadAsync(string conversationId, long seq)
    {
        EnsureExists();
        if (!_log.Conversations.TryGet(conversationId, out var entry)) throw NotMember(conversationId);
        if (seq < 0 || seq > entry.LastSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is outside 0..{entry.LastSeq}.");
        }
        if (seq <= entry.ReadSeq) return entry.ReadSeq;
        var pointer = new UpdatePointer(_log.LastUserSeq + 1, UpdateKind.Read, conversationId, seq, FromSelf: true);
        try { await _log.WriteAsync([pointer], []); }
        catch (StoreConflictException ex) when (Stale(ex)) { }
        _log.Appended([pointer]);
        _log.Conversations.Set(UserConversations.Applied(entry, pointer));
        Push([new UserUpdate(pointer.UserSeq, UpdateKind.Read, conversationId, seq, null)]);
        if (!entry.Left) GrainFactory.GetGrain<IConversationGrain>(conversationId).ReportReceiptsAsync(Id, seq, seq).Ignore();
        return seq;
    }

    public async Task<DateTimeOffset?> SetMuteAsync(string conversationId, bool muted, DateTimeOffset? until)
    {
        EnsureExists();
        if (!_log.Conversations.TryGet(conversationId, out var entry)) throw NotMember(conversationId);
        var end = !muted ? 0 : (until ?? Mutes.Forever).ToUnixTimeMilliseconds();
        if (muted && (end <= _presence.Now.ToUnixTimeMilliseconds() || end > Mutes.Forever.ToUnixTimeMilliseconds()))
        {
            throw new MessengerException(ErrorCode.OutOfRange, "until must be a time in the future (before the year 10000).");
        }
        // A mute that has ended counts as none: unmuting it changes nothing.
        var inForce = entry.MutedUntilMs > _presence.Now.ToUnixTimeMilliseconds() ? entry.MutedUntilMs : 0;
        if (inForce != end)
        {
            // The entry is saved with the pointer: the list shows the mute at once, also after a crash.
            var pointer = new UpdatePointer(_log.LastUserSeq + 1, UpdateKind.Mute, conversationId, end, FromSelf: true);
            var changed = UserConversations.Applied(entry, pointer);
            try { await _log.WriteAsync([pointer], [changed]); }
            catch (StoreConflictException ex) when (Stale(ex)) { }
            _log.Appended([pointer]);
            _log.Conversations.Set(changed);
            Push([new UserUpdate(pointer.UserSeq, UpdateKind.Mute, conversationId, end, null)]);
        }
        return muted ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null;
    }

    public async Task AddReceiptsAsync(string conversationId, IReadOnlyList<MessageReceipt> receipts)
    {
        if (receipts.Count == 0 || !Exists || !_log.Conversations.TryGet(conversationId, out var entry) || entry.Left) return;
        var pointer = new UpdatePointer(_log.LastUserSeq + 1, UpdateKind.Receipts, conversationId, receipts[^1].Seq, FromSelf: false, receipts);
        try { await _log.WriteAsync([pointer], []); }
        catch (StoreConflictException ex) when (Stale(ex)) { }
        _log.Appended([pointer]);
        MessengerMetrics.ReceiptUpdates.Add(1, MessengerMetrics.ByFlush);
        Push([new UserUpdate(pointer.UserSeq, UpdateKind.Receipts, conversationId, pointer.Seq, null, receipts)]);
    }

    public Task JoinConversationAsync(ConversationInfo conversation)
    {
        EnsureNotGone();
        EnsureExists();
        return _log.Conversations.TryGet(conversation.ConversationId, out _) ? Task.CompletedTask : _log.JoinAsync(conversation);
    }

    public Task<long> FindUserSeqAsync(string conversationId, long seq) => _log.FindUserSeqAsync(conversationId, seq);

    [ReadOnly]
    public async Task<SyncPage> SyncAsync(long after, int limit)
    {
        EnsureExists();
        if (limit < 1 || limit > _options.MaxPageSize)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"limit must be 1 to {_options.MaxPageSize}.");
        }
        var lastUserSeq = _log.LastUserSeq;
        if (after < 0 || after > lastUserSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"cursor {after} is outside 0..{lastUserSeq}.");
        }
        if (after == lastUserSeq) return new SyncPage([], false, lastUserSeq);
        var updates = await _log.ReadAsync(after, limit);
        if (updates.Length > 0) _received.Advance(updates[^1].UserSeq);
        ReportReceived(updates);
        var hasMore = updates.Length > 0 && updates[^1].UserSeq < lastUserSeq;
        return new SyncPage(updates, hasMore, lastUserSeq);
    }

    /// <summary>A device fetched these updates: each conversation learns how far the user has received its log.</summary>
    private void ReportReceived(UserUpdate[] updates)
    {
        Dictionary<string, long>? received = null;
        foreach (var u in updates)
        {
            if (u.Kind != UpdateKind.Message || u.Message?.SenderId == Id) continue;
            received ??= new(StringComparer.Ordinal);
            received[u.ConversationId] = Math.Max(received.GetValueOrDefault(u.ConversationId), u.Seq);
        }
        if (received is null) return;
        foreach (var (conversationId, seq) in received)
        {
            GrainFactory.GetGrain<IConversationGrain>(conversationId).ReportReceiptsAsync(Id, seq, 0).Ignore();
        }
    }

    [ReadOnly]
    public async Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync()
    {
        EnsureExists();
        return await _log.SummariesAsync(_presence.Now);
    }

    public async Task CheckContactsAsync(IReadOnlyList<string> userIds)
    {
        EnsureExists();
        List<string>? unknown = null;
        foreach (var userId in userIds)
        {
            if (!_log.Conversations.IsContact(userId)) (unknown ??= []).Add(userId);
        }
        if (unknown is null) return;
        // Not someone from a direct conversation: a member of one of the user's groups? (A group's entry keeps no member list.)
        var groups = new List<Task<IReadOnlyList<string>>>();
        foreach (var groupId in _log.Conversations.CurrentGroups())
        {
            groups.Add(GrainFactory.GetGrain<IConversationGrain>(groupId).FindMembersAsync(Id, unknown));
        }
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var members in await Task.WhenAll(groups)) found.UnionWith(members);
        foreach (var userId in unknown)
        {
            if (!found.Contains(userId)) throw new MessengerException(ErrorCode.NotContact, $"you share no conversation with user '{userId}'.");
        }
    }

    /// <summary>Sends updates to each gateway holding a live session, through the silo's outbox.</summary>
    private void Push(IReadOnlyList<UserUpdate> updates) => _pusher.Push(_presence.LiveGateways(), Id, updates, ReceivedMark);

    /// <summary>The mark a gateway's taking of a push moves, for users whose notifications depend on it.</summary>
    private ReceivedMark? ReceivedMark => _devices.HasPush ? _received : null;

    // ---- devices and presence ----

    public async Task<long> AttachDeviceAsync(string connectionId, string deviceId, long generation, IUpdateObserver gateway)
    {
        if (Grants.Refusal(deviceId, generation) is { } refusal)
        {
            throw refusal == ErrorCode.LoggedOut ? LoggedOut() : new MessengerException(ErrorCode.UserNotFound, $"user '{Id}' does not exist.");
        }
        await _presence.AttachAsync(connectionId, deviceId, gateway);
        _devices.Touch(deviceId, _presence.Now);
        return _log.LastUserSeq;
    }

    public async Task DetachDeviceAsync(string connectionId)
    {
        if (await _presence.DetachAsync(connectionId) is { } deviceId) _devices.Touch(deviceId, _presence.Now);
    }

    public Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds)
    {
        foreach (var deviceId in _presence.Devices.DevicesOf(connectionIds)) _devices.Touch(deviceId, _presence.Now);
        return Task.FromResult(_presence.Check(connectionIds));
    }

    public Task GatewayLostAsync() => _presence.GatewayLostAsync();

    public Task<bool> ReportLivenessAsync(string conversationId) => Task.FromResult(_presence.ReportTo(conversationId));

    // A deleted user is offline, and never seen again: contacts keep asking, and must not fail for it.
    public Task<PresenceStatus> GetPresenceAsync() => Task.FromResult(Exists ? _presence.Status : Gone);

    public Task<PresenceStatus> WatchPresenceAsync(IUpdateObserver gateway) => Task.FromResult(Exists ? _presence.Watch(gateway) : Gone);

    private PresenceStatus Gone => new(Id, false, null);

    public Task UnwatchPresenceAsync(IUpdateObserver gateway)
    {
        _presence.Unwatch(gateway);
        return Task.CompletedTask;
    }

    public Task PushTypingAsync(TypingEvent typing)
    {
        foreach (var gateway in _presence.LiveGateways()) gateway.OnTypingAsync(Id, typing).Ignore();
        return Task.CompletedTask;
    }

    /// <summary>The account exists and is not being deleted.</summary>
    private bool Exists => _profile is not null && !_devices.Deleting;

    private void EnsureNotGone()
    {
        if (_devices.Gone) throw new MessengerException(ErrorCode.UserDeleted, $"user '{Id}' deleted their account.");
    }

    private UserProfile EnsureExists() => Exists ? _profile! : throw new MessengerException(ErrorCode.UserNotFound, $"user '{Id}' does not exist.");

    private static MessengerException NotMember(string conversationId) =>
        new(ErrorCode.NotMember, $"conversation '{conversationId}' does not exist or you are not a member of it.");
}
