using Messenger.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// Owns one user's update log and conversation list, and pushes each new update to every gateway
/// holding one of the user's sockets. Calls run one at a time, so <c>userSeq</c> is gapless by
/// construction; in-memory state changes only after the store has committed.
/// </summary>
public sealed class UserGrain(IMessageStore store, IOptions<MessengerOptions> options) : Grain, IUserGrain
{
    private readonly MessengerOptions _options = options.Value;
    private readonly Dictionary<string, ConversationEntry> _conversations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceSession> _devices = new(StringComparer.Ordinal);
    private UserProfile? _profile;
    private long _lastUserSeq;

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _profile = (await store.FindAccountAsync(Id))?.Profile;
        if (_profile is null) return;
        var record = await store.LoadUserAsync(Id);
        _lastUserSeq = record.LastUserSeq;
        foreach (var entry in record.Conversations)
        {
            _conversations[entry.Conversation.ConversationId] =
                new ConversationEntry(entry.Conversation, entry.LastSeq, entry.ReadSeq, entry.LastMessage);
        }
    }

    public Task<UserProfile> GetProfileAsync() => Task.FromResult(EnsureExists());

    public Task<long> AttachDeviceAsync(string connectionId, string deviceId, IUpdateObserver gateway)
    {
        EnsureExists();
        _devices[connectionId] = new DeviceSession(deviceId, gateway, DateTime.UtcNow + _options.DeviceLease);
        return Task.FromResult(_lastUserSeq);
    }

    public Task DetachDeviceAsync(string connectionId)
    {
        _devices.Remove(connectionId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> RenewDevicesAsync(IReadOnlyList<string> connectionIds)
    {
        var expires = DateTime.UtcNow + _options.DeviceLease;
        List<string>? unknown = null;
        foreach (var id in connectionIds)
        {
            if (_devices.TryGetValue(id, out var session)) _devices[id] = session with { ExpiresAt = expires };
            else (unknown ??= []).Add(id);
        }
        return Task.FromResult<IReadOnlyList<string>>(unknown ?? (IReadOnlyList<string>)[]);
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
    }

    public async Task<long[]> DeliverAsync(ConversationInfo conversation, IReadOnlyList<ChatMessage> messages)
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
        return userSeqs;
    }

    public Task<long> FindUserSeqAsync(string conversationId, long seq) => store.FindUserSeqAsync(Id, conversationId, seq);

    /// <summary>Sends updates to each gateway holding a live session, once per gateway.</summary>
    private void Push(IReadOnlyList<UserUpdate> updates)
    {
        if (_devices.Count == 0) return;
        var now = DateTime.UtcNow;
        List<string>? expired = null;
        List<IUpdateObserver>? notified = null;
        foreach (var (connectionId, session) in _devices)
        {
            if (session.ExpiresAt < now)
            {
                (expired ??= []).Add(connectionId);
                continue;
            }
            notified ??= [];
            if (notified.Contains(session.Gateway)) continue;
            notified.Add(session.Gateway);
            session.Gateway.OnUpdatesAsync(Id, updates).Ignore();
        }
        if (expired is not null)
        {
            foreach (var id in expired) _devices.Remove(id);
        }
    }

    private UserProfile EnsureExists() =>
        _profile ?? throw new MessengerException(ErrorCode.UserNotFound, $"user '{Id}' does not exist.");

    private sealed record ConversationEntry(ConversationInfo Info, long LastSeq, long ReadSeq, ChatMessage? LastMessage)
    {
        public UserConversation ToRecord() => new(Info, LastSeq, ReadSeq, LastMessage);
    }

    private readonly record struct DeviceSession(string DeviceId, IUpdateObserver Gateway, DateTime ExpiresAt);
}
