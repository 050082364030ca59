using Messenger.Grains.Presence;
using Messenger.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// Owns one user's update log and conversation list, and pushes each new update to every gateway
/// holding one of the user's sockets. Calls run one at a time, so <c>userSeq</c> is gapless by
/// construction; in-memory state changes only after the store has committed. Presence is derived
/// from the device sessions (<see cref="DeviceSessions"/>) and published to the gateways watching it.
/// </summary>
public sealed class UserGrain(
    IMessageStore store,
    IOptions<MessengerOptions> options,
    IOptions<PresenceOptions> presenceOptions,
    TimeProvider time) : Grain, IUserGrain
{
    private readonly MessengerOptions _options = options.Value;
    private readonly Dictionary<string, ConversationEntry> _conversations = new(StringComparer.Ordinal);
    private readonly DeviceSessions _devices = new(options.Value.DeviceLease, presenceOptions.Value.OnlineSettle, presenceOptions.Value.OfflineGrace);
    private readonly Dictionary<IUpdateObserver, DateTimeOffset> _watchers = [];
    private HashSet<string>? _contacts;
    private IGrainTimer? _presenceTimer;
    private DateTimeOffset _aliveRecordedAt;
    private UserProfile? _profile;
    private long _lastUserSeq;

    // At the store's precision (ms), so a "last seen" read from memory equals the one read back later.
    private DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _profile = (await store.FindAccountAsync(Id))?.Profile;
        if (_profile is null) return;
        var record = await store.LoadUserAsync(Id);
        _lastUserSeq = record.LastUserSeq;
        _devices.LastSeen = record.LastSeen;
        foreach (var entry in record.Conversations)
        {
            _conversations[entry.Conversation.ConversationId] =
                new ConversationEntry(entry.Conversation, entry.LastSeq, entry.ReadSeq, entry.LastMessage);
        }
    }

    public Task<UserProfile> GetProfileAsync() => Task.FromResult(EnsureExists());

    public async Task<long> AttachDeviceAsync(string connectionId, string deviceId, IUpdateObserver gateway)
    {
        EnsureExists();
        _devices.Attach(connectionId, deviceId, gateway, Now);
        await EvaluatePresenceAsync();
        return _lastUserSeq;
    }

    public async Task DetachDeviceAsync(string connectionId)
    {
        _devices.Detach(connectionId, Now);
        await EvaluatePresenceAsync();
    }

    public async Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds)
    {
        var now = Now;
        var unknown = _devices.Renew(connectionIds, now);
        if (_profile is not null && _devices.AnyLive(now) && now - _aliveRecordedAt >= _options.DeviceLease)
        {
            // So that after a crash "last seen" is off by at most one lease, not by the whole session.
            _aliveRecordedAt = now;
            await store.SetLastSeenAsync(Id, now);
        }
        await EvaluatePresenceAsync();
        return unknown ?? (IReadOnlyList<string>)[];
    }

    public Task CheckContactsAsync(IReadOnlyList<string> userIds)
    {
        EnsureExists();
        if (_contacts is null)
        {
            _contacts = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in _conversations.Values)
            {
                foreach (var member in entry.Info.Members) _contacts.Add(member);
            }
        }
        foreach (var userId in userIds)
        {
            if (userId != Id && !_contacts.Contains(userId))
            {
                throw new MessengerException(ErrorCode.NotContact, $"you share no conversation with user '{userId}'.");
            }
        }
        return Task.CompletedTask;
    }

    public Task<PresenceStatus> GetPresenceAsync()
    {
        EnsureExists();
        return Task.FromResult(PresenceStatus);
    }

    public Task<PresenceStatus> WatchPresenceAsync(IUpdateObserver gateway)
    {
        EnsureExists();
        _watchers[gateway] = Now + _options.DeviceLease;
        return Task.FromResult(PresenceStatus);
    }

    public Task UnwatchPresenceAsync(IUpdateObserver gateway)
    {
        _watchers.Remove(gateway);
        return Task.CompletedTask;
    }

    public Task PushTypingAsync(TypingEvent typing)
    {
        foreach (var gateway in _devices.LiveGateways(Now)) gateway.OnTypingAsync(Id, typing).Ignore();
        return Task.CompletedTask;
    }

    private PresenceStatus PresenceStatus => new(Id, _devices.PublishedOnline, _devices.LastSeen);

    /// <summary>Applies the debounce rules now; tells watchers of a published change; re-arms the timer.</summary>
    private async Task EvaluatePresenceAsync()
    {
        var now = Now;
        var change = _devices.Evaluate(now);
        if (change is PresenceChange.WentOnline or PresenceChange.WentOffline)
        {
            var status = PresenceStatus;
            List<IUpdateObserver>? expired = null;
            foreach (var (gateway, expiresAt) in _watchers)
            {
                if (expiresAt <= now) (expired ??= []).Add(gateway);
                else gateway.OnPresenceAsync(status).Ignore(); // one call per watching gateway, not per watcher
            }
            if (expired is not null) foreach (var gateway in expired) _watchers.Remove(gateway);
        }
        if (_profile is not null)
        {
            if (change is PresenceChange.WentOffline or PresenceChange.LastSeenChanged)
            {
                await store.SetLastSeenAsync(Id, _devices.LastSeen!.Value);
            }
            else if (change is PresenceChange.WentOnline)
            {
                // Seen now; if the process dies while they are online, this is what "last seen" shows after.
                _aliveRecordedAt = now;
                await store.SetLastSeenAsync(Id, now);
            }
        }
        if (_devices.NextDeadline is { } deadline)
        {
            var due = deadline - now;
            if (due < TimeSpan.Zero) due = TimeSpan.Zero;
            _presenceTimer ??= this.RegisterGrainTimer(_ => EvaluatePresenceAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _presenceTimer.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
    }

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
        var updates = after == lastUserSeq ? [] : await store.ReadUserUpdatesAsync(Id, after, limit);
        var hasMore = updates.Count > 0 && updates[^1].UserSeq < lastUserSeq;
        return new SyncPage(updates, hasMore, lastUserSeq);
    }

    [ReadOnly]
    public Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync()
    {
        EnsureExists();
        var list = new List<ConversationSummary>(_conversations.Count);
        foreach (var entry in _conversations.Values)
        {
            list.Add(new ConversationSummary(entry.Info.ConversationId, entry.Info.Kind, entry.Info.Members,
                entry.LastSeq, entry.ReadSeq, entry.LastSeq - entry.ReadSeq, entry.LastMessage));
        }
        list.Sort(static (a, b) => (b.LastMessage?.SentAt ?? DateTimeOffset.MinValue).CompareTo(a.LastMessage?.SentAt ?? DateTimeOffset.MinValue));
        return Task.FromResult<IReadOnlyList<ConversationSummary>>(list);
    }

    public async Task<long> MarkReadAsync(string conversationId, long seq)
    {
        EnsureExists();
        if (!_conversations.TryGetValue(conversationId, out var entry))
        {
            throw new MessengerException(ErrorCode.NotMember, $"conversation '{conversationId}' does not exist or you are not a member of it.");
        }
        if (seq < 0 || seq > entry.LastSeq)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"seq {seq} is outside 0..{entry.LastSeq}.");
        }
        if (seq <= entry.ReadSeq) return entry.ReadSeq;
        var update = new UserUpdate(_lastUserSeq + 1, UpdateKind.Read, conversationId, seq, null);
        var changed = entry with { ReadSeq = seq };
        await store.AppendUserUpdatesAsync(Id, [update], [changed.ToRecord()]);
        _lastUserSeq = update.UserSeq;
        _conversations[conversationId] = changed;
        Push([update]);
        return seq;
    }

    public async Task JoinConversationAsync(ConversationInfo conversation)
    {
        EnsureExists();
        if (_conversations.ContainsKey(conversation.ConversationId)) return;
        var entry = new ConversationEntry(conversation, 0, 0, null);
        await store.AppendUserUpdatesAsync(Id, [], [entry.ToRecord()]);
        _conversations[conversation.ConversationId] = entry;
        _contacts = null;
    }

    public async Task<DeliveryResult> DeliverAsync(ConversationInfo conversation, IReadOnlyList<ChatMessage> messages)
    {
        EnsureExists();
        var entry = _conversations.TryGetValue(conversation.ConversationId, out var known)
            ? known
            : new ConversationEntry(conversation, 0, 0, null);
        var userSeqs = new long[messages.Count];
        var updates = new List<UserUpdate>(messages.Count);
        var next = _lastUserSeq;
        var changed = entry;
        List<int>? redelivered = null;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Seq <= changed.LastSeq)
            {
                (redelivered ??= []).Add(i); // a re-driven fan-out: already in the log
                continue;
            }
            userSeqs[i] = ++next;
            updates.Add(new UserUpdate(next, UpdateKind.Message, conversation.ConversationId, message.Seq, message));
            changed = changed with
            {
                LastSeq = message.Seq,
                // Sending in a conversation means having read it up to there.
                ReadSeq = message.SenderId == Id ? message.Seq : changed.ReadSeq,
                LastMessage = message,
            };
        }
        if (updates.Count > 0)
        {
            await store.AppendUserUpdatesAsync(Id, updates, [changed.ToRecord()]);
            _lastUserSeq = next;
            if (!_conversations.ContainsKey(conversation.ConversationId)) _contacts = null;
            _conversations[conversation.ConversationId] = changed;
            Push(updates);
        }
        if (redelivered is not null)
        {
            foreach (var i in redelivered)
            {
                userSeqs[i] = await store.FindUserSeqAsync(Id, conversation.ConversationId, messages[i].Seq);
            }
        }
        return new DeliveryResult(userSeqs, _devices.AnyLive(Now));
    }

    public Task<long> FindUserSeqAsync(string conversationId, long seq) => store.FindUserSeqAsync(Id, conversationId, seq);

    /// <summary>Sends updates to each gateway holding a live session, once per gateway.</summary>
    private void Push(IReadOnlyList<UserUpdate> updates)
    {
        if (_devices.Count == 0) return;
        foreach (var gateway in _devices.LiveGateways(Now)) gateway.OnUpdatesAsync(Id, updates).Ignore();
    }

    private UserProfile EnsureExists() =>
        _profile ?? throw new MessengerException(ErrorCode.UserNotFound, $"user '{Id}' does not exist.");

    private sealed record ConversationEntry(ConversationInfo Info, long LastSeq, long ReadSeq, ChatMessage? LastMessage)
    {
        public UserConversation ToRecord() => new(Info, LastSeq, ReadSeq, LastMessage);
    }
}
