using Messenger.Grains.Delivery;
using Messenger.Grains.Presence;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Messenger.Grains.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// Owns one user's update log and conversation list, and pushes each new update to every gateway
/// holding one of the user's sockets. Calls run one at a time, so <c>userSeq</c> is gapless by
/// construction; in-memory state changes only after the store has committed. The log holds
/// pointers; message bodies stay in their conversations' logs. Presence is derived from the device
/// sessions (<see cref="DeviceSessions"/>) and published to the gateways watching it.
/// </summary>
public sealed class UserGrain : Grain, IUserGrain
{
    private const int ReplayPage = 500;

    private readonly IAccountStore _accounts;
    private readonly IUserLogStore _log;
    private readonly IConversationStore _conversationStore;
    private readonly UpdatePusher _pusher;
    private readonly MessengerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UserGrain> _logger;
    private readonly UserConversations _conversations;
    private readonly DeviceSessions _devices;
    private readonly PresenceWatchers _watchers;
    private readonly LivenessReports _reports;
    private readonly ThrottledSave _checkpoint;
    private IGrainTimer? _presenceTimer;
    private DateTimeOffset _aliveRecordedAt;
    private UserProfile? _profile;
    private long _lastUserSeq;

    public UserGrain(IAccountStore accounts, IUserLogStore log, IConversationStore conversations, UpdatePusher pusher,
        IOptions<MessengerOptions> options, IOptions<PresenceOptions> presence, TimeProvider time, ILogger<UserGrain> logger)
    {
        _accounts = accounts;
        _log = log;
        _conversationStore = conversations;
        _pusher = pusher;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _conversations = new UserConversations(Id);
        _devices = new DeviceSessions(_options.DeviceLease, presence.Value.OnlineSettle, presence.Value.OfflineGrace);
        _watchers = new PresenceWatchers(_options.DeviceLease);
        _reports = new LivenessReports(TimeSpan.FromMinutes(20), time);
        _checkpoint = new ThrottledSave(_ => SaveCheckpointAsync(), _options.MarkSaveInterval, time,
            (ex, _) => logger.LogWarning(ex, "User {UserId}: could not save the conversation-list checkpoint", Id));
    }

    // At the store's precision (ms), so a "last seen" read from memory equals the one read back later.
    private DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _profile = (await _accounts.FindAccountAsync(Id))?.Profile;
        if (_profile is null) return;
        var record = await _log.LoadUserAsync(Id);
        _lastUserSeq = record.LastUserSeq;
        _devices.LastSeen = record.LastSeen;
        _conversations.Load(record.Conversations);
        await ReplayAsync(record.CheckpointUserSeq);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _checkpoint.FlushAsync();

    /// <summary>Brings the checkpointed list up to the end of the log.</summary>
    private async Task ReplayAsync(long checkpoint)
    {
        var cursor = checkpoint;
        while (cursor < _lastUserSeq)
        {
            var page = await _log.ReadUpdatesAsync(Id, cursor, ReplayPage);
            if (page.Count == 0) break;
            foreach (var update in page)
            {
                if (!_conversations.Apply(update) && await _conversationStore.GetConversationAsync(update.ConversationId) is { } record)
                {
                    _conversations.Set(UserConversations.Applied(new UserConversation(record.Info, 0, 0), update));
                }
            }
            cursor = page[^1].UserSeq;
        }
        if (_conversations.HasUnsavedChanges) _checkpoint.Request(_lastUserSeq);
    }

    private async Task SaveCheckpointAsync()
    {
        var upTo = _lastUserSeq;
        var changed = _conversations.TakeChanged();
        try
        {
            await _log.SaveConversationsAsync(Id, changed, upTo);
        }
        catch
        {
            _conversations.Restore(changed);
            throw;
        }
    }

    public Task<UserProfile> GetProfileAsync() => Task.FromResult(EnsureExists());

    public async Task<DeliveryReceipt> DeliverAsync(string conversationId, IReadOnlyList<ChatMessage> messages)
    {
        EnsureExists();
        if (!_conversations.TryGet(conversationId, out var entry))
        {
            var record = await _conversationStore.GetConversationAsync(conversationId);
            if (record is null || !record.Info.Members.Contains(Id)) throw NotMember(conversationId);
            entry = new UserConversation(record.Info, 0, 0);
        }
        var userSeqs = new long[messages.Count];
        var pointers = new List<UpdatePointer>(messages.Count);
        var updates = new List<UserUpdate>(messages.Count);
        var next = _lastUserSeq;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Seq <= entry.LastSeq) continue; // a re-driven fan-out: already in the log
            userSeqs[i] = ++next;
            var pointer = new UpdatePointer(next, UpdateKind.Message, conversationId, message.Seq, message.SenderId == Id);
            pointers.Add(pointer);
            updates.Add(new UserUpdate(next, UpdateKind.Message, conversationId, message.Seq, message));
            entry = UserConversations.Applied(entry, pointer);
        }
        if (pointers.Count > 0)
        {
            await AppendAsync(pointers);
            _conversations.Set(entry);
            Push(updates);
        }
        var live = _devices.AnyLive(Now);
        _reports.Record(conversationId, live);
        return new DeliveryReceipt(userSeqs, live);
    }

    /// <summary>
    /// Makes updates durable and moves the log's end. A conflict means another activation of this user
    /// wrote first: this one is stale, so it goes away (the caller retries on a fresh one, which reloads).
    /// </summary>
    private async Task AppendAsync(List<UpdatePointer> pointers)
    {
        try
        {
            await _log.AppendUpdatesAsync(Id, pointers);
        }
        catch (StoreConflictException ex)
        {
            _logger.LogWarning(ex, "User {UserId}: another activation wrote the update log; deactivating to reload", Id);
            DeactivateOnIdle();
            throw;
        }
        _lastUserSeq = pointers[^1].UserSeq;
        _checkpoint.Request(_lastUserSeq);
    }

    public async Task<long> MarkReadAsync(string conversationId, long seq)
    {
        EnsureExists();
        if (!_conversations.TryGet(conversationId, out var entry)) throw NotMember(conversationId);
        if (seq < 0 || seq > entry.LastSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is outside 0..{entry.LastSeq}.");
        }
        if (seq <= entry.ReadSeq) return entry.ReadSeq;
        var pointer = new UpdatePointer(_lastUserSeq + 1, UpdateKind.Read, conversationId, seq, FromSelf: true);
        await AppendAsync([pointer]);
        _conversations.Set(UserConversations.Applied(entry, pointer));
        Push([new UserUpdate(pointer.UserSeq, UpdateKind.Read, conversationId, seq, null)]);
        return seq;
    }

    public async Task JoinConversationAsync(ConversationInfo conversation)
    {
        EnsureExists();
        if (_conversations.TryGet(conversation.ConversationId, out _)) return;
        var entry = new UserConversation(conversation, 0, 0);
        // Durable at once (without moving the checkpoint): the list must show it even before a message.
        await _log.SaveConversationsAsync(Id, [entry], 0);
        _conversations.Set(entry);
    }

    public Task<long> FindUserSeqAsync(string conversationId, long seq) => _log.FindUserSeqAsync(Id, conversationId, seq);

    [ReadOnly]
    public async Task<SyncPage> SyncAsync(long after, int limit)
    {
        EnsureExists();
        if (limit < 1 || limit > _options.MaxPageSize)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"limit must be 1 to {_options.MaxPageSize}.");
        }
        if (after < 0 || after > _lastUserSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"cursor {after} is outside 0..{_lastUserSeq}.");
        }
        var lastUserSeq = _lastUserSeq;
        if (after == lastUserSeq) return new SyncPage([], false, lastUserSeq);
        var pointers = await _log.ReadUpdatesAsync(Id, after, limit);
        var keys = new List<MessageKey>(pointers.Count);
        foreach (var p in pointers) if (p.Kind == UpdateKind.Message) keys.Add(new MessageKey(p.ConversationId, p.Seq));
        var bodies = await _conversationStore.ReadMessagesByKeyAsync(keys);
        var updates = new UserUpdate[pointers.Count];
        var b = 0;
        for (var i = 0; i < pointers.Count; i++)
        {
            var p = pointers[i];
            ChatMessage? message = null;
            if (p.Kind == UpdateKind.Message && b < bodies.Count && bodies[b].Seq == p.Seq && bodies[b].ConversationId == p.ConversationId) message = bodies[b++];
            updates[i] = new UserUpdate(p.UserSeq, p.Kind, p.ConversationId, p.Seq, message);
        }
        var hasMore = updates.Length > 0 && updates[^1].UserSeq < lastUserSeq;
        return new SyncPage(updates, hasMore, lastUserSeq);
    }

    [ReadOnly]
    public async Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync()
    {
        EnsureExists();
        var entries = new List<UserConversation>(_conversations.All);
        var keys = new List<MessageKey>(entries.Count);
        foreach (var e in entries) if (e.LastSeq > 0) keys.Add(new MessageKey(e.Conversation.ConversationId, e.LastSeq));
        var last = await _conversationStore.ReadMessagesByKeyAsync(keys);
        var byConversation = new Dictionary<string, ChatMessage>(last.Count, StringComparer.Ordinal);
        foreach (var message in last) byConversation[message.ConversationId] = message;
        var list = new List<ConversationSummary>(entries.Count);
        foreach (var e in entries)
        {
            var info = e.Conversation;
            list.Add(new ConversationSummary(info.ConversationId, info.Kind, info.Members, e.LastSeq, e.ReadSeq,
                e.LastSeq - e.ReadSeq, byConversation.GetValueOrDefault(info.ConversationId)));
        }
        list.Sort(static (a, b) => (b.LastMessage?.SentAt ?? DateTimeOffset.MinValue).CompareTo(a.LastMessage?.SentAt ?? DateTimeOffset.MinValue));
        return list;
    }

    public Task CheckContactsAsync(IReadOnlyList<string> userIds)
    {
        EnsureExists();
        foreach (var userId in userIds)
        {
            if (!_conversations.IsContact(userId))
            {
                throw new MessengerException(ErrorCode.NotContact, $"you share no conversation with user '{userId}'.");
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Sends updates to each gateway holding a live session, through the silo's outbox.</summary>
    private void Push(IReadOnlyList<UserUpdate> updates)
    {
        if (_devices.Count == 0) return;
        _pusher.Push(_devices.LiveGateways(Now), Id, updates);
    }

    // ---- devices, liveness and presence ----

    public async Task<long> AttachDeviceAsync(string connectionId, string deviceId, IUpdateObserver gateway)
    {
        EnsureExists();
        _devices.Attach(connectionId, deviceId, gateway, Now);
        await EvaluatePresenceAsync();
        return _lastUserSeq;
    }

    public Task DetachDeviceAsync(string connectionId)
    {
        _devices.Detach(connectionId, Now);
        return EvaluatePresenceAsync();
    }

    public async Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds)
    {
        var now = Now;
        var unknown = _devices.Renew(connectionIds, now);
        if (_profile is not null && _devices.AnyLive(now) && now - _aliveRecordedAt >= _options.DeviceLease)
        {
            // So that after a crash "last seen" is off by at most one lease, not by the whole session.
            _aliveRecordedAt = now;
            await _log.SetLastSeenAsync(Id, now);
        }
        await EvaluatePresenceAsync();
        return unknown ?? (IReadOnlyList<string>)[];
    }

    public Task<bool> ReportLivenessAsync(string conversationId)
    {
        var live = _devices.AnyLive(Now);
        _reports.Record(conversationId, live);
        return Task.FromResult(live);
    }

    public Task<PresenceStatus> GetPresenceAsync()
    {
        EnsureExists();
        return Task.FromResult(PresenceStatus);
    }

    public Task<PresenceStatus> WatchPresenceAsync(IUpdateObserver gateway)
    {
        EnsureExists();
        _watchers.Watch(gateway, Now);
        return Task.FromResult(PresenceStatus);
    }

    public Task UnwatchPresenceAsync(IUpdateObserver gateway)
    {
        _watchers.Unwatch(gateway);
        return Task.CompletedTask;
    }

    public Task PushTypingAsync(TypingEvent typing)
    {
        foreach (var gateway in _devices.LiveGateways(Now)) gateway.OnTypingAsync(Id, typing).Ignore();
        return Task.CompletedTask;
    }

    private PresenceStatus PresenceStatus => new(Id, _devices.PublishedOnline, _devices.LastSeen);

    /// <summary>
    /// Applies the debounce rules now; tells watchers of a published change and conversations of a
    /// change in liveness; re-arms the timer.
    /// </summary>
    private async Task EvaluatePresenceAsync()
    {
        var now = Now;
        var change = _devices.Evaluate(now);
        if (change is PresenceChange.WentOnline or PresenceChange.WentOffline) _watchers.Publish(PresenceStatus, now);
        if (_profile is not null)
        {
            if (change is PresenceChange.WentOffline or PresenceChange.LastSeenChanged)
            {
                await _log.SetLastSeenAsync(Id, _devices.LastSeen!.Value);
            }
            else if (change is PresenceChange.WentOnline)
            {
                // Seen now; if the process dies while they are online, this is what "last seen" shows after.
                _aliveRecordedAt = now;
                await _log.SetLastSeenAsync(Id, now);
            }
        }
        await TellConversationsOfLivenessAsync(_devices.AnyLive(now));
        if (_devices.NextDeadline is { } deadline)
        {
            var due = deadline - now;
            if (due < TimeSpan.Zero) due = TimeSpan.Zero;
            _presenceTimer ??= this.RegisterGrainTimer(_ => EvaluatePresenceAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _presenceTimer.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Tells the conversations that last heard otherwise (so their acks' offline lists are right).</summary>
    private async Task TellConversationsOfLivenessAsync(bool live)
    {
        var stale = _reports.TakeStale(live);
        if (stale.Count == 0) return;
        var calls = new Task[stale.Count];
        for (var i = 0; i < calls.Length; i++) calls[i] = GrainFactory.GetGrain<IConversationGrain>(stale[i]).MemberLivenessChangedAsync(Id, live);
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception ex)
        {
            // Informational only: the conversation corrects itself on its next delivery.
            _logger.LogDebug(ex, "User {UserId}: telling conversations of liveness {Live} failed", Id, live);
        }
    }

    private UserProfile EnsureExists() =>
        _profile ?? throw new MessengerException(ErrorCode.UserNotFound, $"user '{Id}' does not exist.");

    private static MessengerException NotMember(string conversationId) =>
        new(ErrorCode.NotMember, $"conversation '{conversationId}' does not exist or you are not a member of it.");
}
