using System.Diagnostics;
using Messenger.Grains.Conversations;
using Messenger.Grains.Hosting;
using Messenger.Grains.Presence;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// Owns one conversation's log. Sends are reentrant: while one batch commits, later sends queue and
/// commit together as the next batch (group commit), order kept. Committed messages fan out to each
/// member on its own (<see cref="MemberFanOut"/>); a send is acked once its sender's own update log
/// holds it, never waiting on the other members. A group's membership changes are events in the same
/// log, queued and committed the same way (<c>ConversationGrain.Groups.cs</c>, <see cref="ConversationMembers"/>).
/// </summary>
[Reentrant]
public sealed partial class ConversationGrain : Grain, IConversationGrain, IFanOutTarget
{
    private static readonly TimeSpan LivenessQueryLimit = TimeSpan.FromSeconds(1);

    private readonly IConversationStore _store;
    private readonly IAccountStore _accounts;
    private readonly MessengerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ConversationGrain> _logger;
    private readonly SendDeduplicator _dedup;
    private readonly RecentMessages _recent;
    private readonly BatchingLoop<PendingSend> _commits;
    private readonly ThrottledSave _mark;
    private readonly PendingAcks _acks = new();
    private readonly MemberLiveness _liveness = new();
    private readonly ConversationTyping _typing;
    private readonly List<ReadyAck> _ready = [];
    private readonly Dictionary<string, IUserGrain> _userGrains = new(StringComparer.Ordinal);
    private ConversationMembers? _members;
    private DateTimeOffset _createdAt;
    private ConversationInfo? _info;
    private ConversationInfo? _listInfo;
    private HashSet<string> _deletedMembers = [];
    private MemberFanOut? _fanOut;
    private bool _broken;
    private Task? _livenessQuery;
    private long _lastSeq;
    private (long After, long LastSeq, IReadOnlyList<ChatMessage> Page) _lastRead;

    public ConversationGrain(IConversationStore store, IAccountStore accounts, IOptions<MessengerOptions> options,
        IOptions<PresenceOptions> presence, TimeProvider time, ILogger<ConversationGrain> logger)
    {
        Id = this.GetPrimaryKeyString();
        _store = store;
        _accounts = accounts;
        _options = options.Value;
        _time = time;
        _logger = logger;
        // Ten seconds covers a retry of a send in flight or just answered (a reconnect, a lost ack); an older retry
        // is answered the same way by the store's unique index. An answered send keeps only its message (held by the
        // recent messages anyway) and userSeq: its ack and the ack's task no longer outlive it.
        _dedup = new SendDeduplicator(capacity: 4096, maxAge: TimeSpan.FromSeconds(10), time);
        _recent = new RecentMessages(_options.RecentMessages);
        _commits = new BatchingLoop<PendingSend>(CommitAsync);
        _mark = new ThrottledSave(seq => _store.SetFannedOutAsync(Id, seq), _options.MarkSaveInterval, time,
            (ex, seq) => logger.LogWarning(ex, "Conversation {ConversationId}: could not save fan-out mark {Seq}", Id, seq));
        _typing = new ConversationTyping(presence.Value, time, this, Id, BroadcastTyping);
    }

    // Orleans decodes a string key into a new string on every call: read once, so every message, pointer and log line
    // of this activation, and its typing helper, share one instance (each commit's messages carried a copy of their own).
    private string Id { get; }

    public override Task OnActivateAsync(CancellationToken cancellationToken) => StorageFailureFilter.ActivateAsync(LoadAsync, _logger);

    private async Task LoadAsync()
    {
        var record = await _store.GetConversationAsync(Id);
        if (record is null) return;
        _lastSeq = record.LastSeq;
        if (_options.RecentMessages > 0 && _lastSeq > 0)
        {
            _recent.AddRange(await _store.ReadMessagesAsync(Id, _lastSeq + 1, HistoryDirection.Before, _options.RecentMessages));
        }
        SetMembers(record);
        if (record.Info.Kind == ConversationKind.Group)
        {
            // A deletion whose leave did not commit (a crash, a failed commit): leave now.
            foreach (var member in record.Members)
            {
                if (member.Deleted && member.Current) _ = LeaveForDeletedAsync(member.UserId);
            }
        }
        if (record.FannedOutSeq < _lastSeq)
        {
            // A crash came between commit and fan-out: finish it; members skip what they already hold.
            _logger.LogInformation("Conversation {ConversationId}: resuming fan-out of seq {From}..{To}", Id, record.FannedOutSeq + 1, _lastSeq);
            _fanOut!.Advance(_lastSeq);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_fanOut is not null) _mark.Request(_fanOut.Mark);
        await _mark.FlushAsync();
        // The last flush sends every sender what they are owed, paced or backing off or not: nothing would send it later.
        _carriers?.StopPacing();
        if (_receiptFlush is not null) await _receiptFlush.FlushAsync();
        if (_receiptSave is not null) await _receiptSave.FlushAsync();
        // Then none after it (made before or during these flushes, or later by a delivery ending): a failed save is not
        // tried again from a gone activation; the next one starts from what was saved.
        _closed = true;
        _mark.Stop();
        _receiptFlush?.Stop();
        _receiptSave?.Stop();
    }

    // Set once deactivation has made its last saves: a saver made after it is stopped at once.
    private bool _closed;

    private void SetMembers(ConversationRecord record)
    {
        _createdAt = record.Info.CreatedAt;
        _members = new ConversationMembers(record.Info.Kind, record.Info.Title, record.Members, _options.MaxGroupMembers, _options.MaxTitleLength);
        _deletedMembers = [.. record.DeletedMembers];
        _fanOut = new MemberFanOut(record.Members, record.FannedOutSeq, this, _time);
        _receipts = new ReceiptTracker(record.Members);
        RefreshInfo();
    }

    /// <summary>After a membership change: the metadata answered to members, and the form each delivery carries to their lists.</summary>
    private void RefreshInfo(bool committed = true)
    {
        _info = _members!.Info(Id, _createdAt);
        // What deliveries carry to members' lists: only committed changes (a queued one may yet fail).
        if (committed) _listInfo = _info.ForList();
    }

    private IUserGrain UserGrain(string userId)
    {
        if (!_userGrains.TryGetValue(userId, out var grain)) _userGrains[userId] = grain = GrainFactory.GetGrain<IUserGrain>(userId);
        return grain;
    }

    public async Task<ConversationInfo> OpenDirectAsync(string callerId)
    {
        if (_info is not null)
        {
            EnsureMember(callerId);
            return _info;
        }
        if (!ConversationIds.TryParseDirect(Id, out var first, out var second))
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"'{Id}' is not a direct conversation id.");
        }
        if (callerId != first && callerId != second) throw NotMember();
        foreach (var userId in (string[])[first, second])
        {
            if (await _accounts.FindAccountAsync(userId) is null)
            {
                throw new MessengerException(ErrorCode.UserNotFound, $"user '{userId}' does not exist.");
            }
        }
        await _store.CreateConversationAsync(new ConversationInfo(Id, ConversationKind.Direct, [first, second], DateTimeOffset.UtcNow));
        var record = await _store.GetConversationAsync(Id)
            ?? throw new InvalidOperationException($"Conversation {Id} vanished after creation.");
        if (_info is null) SetMembers(record);
        var info = _info!;
        await Task.WhenAll(JoinAsync(first, info), JoinAsync(second, info));
        return info;
    }

    public Task<ConversationInfo> GetInfoAsync(string callerId)
    {
        EnsureMember(callerId);
        return Task.FromResult(_info!);
    }

    public Task<SendAck> SendAsync(string senderId, string clientMsgId, string text)
    {
        // The member's own copy of their id: the one kept in the message (and the recent messages) for its lifetime,
        // rather than the copy each call brings.
        senderId = EnsureMember(senderId).UserId;
        if (string.IsNullOrEmpty(clientMsgId) || clientMsgId.Length > _options.MaxClientMsgIdLength)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"clientMsgId must be 1 to {_options.MaxClientMsgIdLength} characters.");
        }
        if (string.IsNullOrEmpty(text) || text.Length > _options.MaxTextLength)
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"text must be 1 to {_options.MaxTextLength} characters.");
        }
        if (_dedup.TryGet(senderId, clientMsgId, out var earlier))
        {
            return earlier.Pending is { } inFlight ? AsDuplicateAsync(inFlight) : Task.FromResult(DuplicateAck(earlier.Message!, earlier.UserSeq));
        }
        if (_deletedMembers.Count > 0 && _info!.Kind == ConversationKind.Direct)
        {
            throw new MessengerException(ErrorCode.UserDeleted, "the other member deleted their account; the conversation takes no more messages.");
        }
        var pending = new PendingSend(new NewMessage(senderId, clientMsgId, text, _time.GetUtcNow()));
        _dedup.Add(senderId, clientMsgId, pending.Ack.Task);
        if (_info!.Kind == ConversationKind.Direct) _livenessQuery ??= QueryLivenessAsync();
        _commits.Add(pending);
        return pending.Ack.Task;
    }

    private static async Task<SendAck> AsDuplicateAsync(Task<SendAck> earlier)
    {
        var ack = await earlier;
        return DuplicateAck(ack.Message, ack.UserSeq);
    }

    /// <summary>What a retry of an acked send gets: the original message and userSeq, and no offline list.</summary>
    private static SendAck DuplicateAck(ChatMessage original, long userSeq) => new(original, userSeq, Duplicate: true, []);

    /// <summary>Commits one batch; each message's ack then waits only for its sender's delivery.</summary>
    private async Task CommitAsync(List<PendingSend> batch)
    {
        var messages = new NewMessage[batch.Count];
        for (var i = 0; i < batch.Count; i++) messages[i] = batch[i].Message;
        IReadOnlyList<AppendResult> results;
        try
        {
            var started = Stopwatch.GetTimestamp();
            results = await _store.AppendMessagesAsync(Id, _lastSeq, messages);
            MessengerMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            // The in-memory log position can no longer be trusted (a conflict means another activation
            // wrote): fail everything queued (clients retry with the same clientMsgId) and reload.
            _logger.LogError(ex, "Conversation {ConversationId}: commit of {Count} messages failed; reloading", Id, batch.Count);
            // A database away for a moment, or another activation of this conversation that wrote first (two
            // overlap for a moment while a silo hands its grains over): nothing of the batch was written and a
            // retry reaches a fresh activation, so the client hears "unavailable". Anything else is internal.
            var error = StorageFailureFilter.Unavailable(ex)
                ?? (ex is StoreConflictException ? Broken()
                    : new MessengerException(ErrorCode.Internal, "the message could not be stored; retry with the same clientMsgId."));
            foreach (var send in (List<PendingSend>)[.. batch, .. _commits.TakeAll()])
            {
                _dedup.Remove(send.Message.SenderId, send.Message.ClientMsgId);
                send.Ack.TrySetException(error);
            }
            // Queued membership changes were applied to this activation's state and may not have happened: it answers
            // nothing more until it is gone (the next one reloads).
            _broken = true;
            DeactivateOnIdle();
            return;
        }
        var receiptsMoved = false;
        for (var i = 0; i < results.Count; i++)
        {
            var message = results[i].Message;
            if (results[i].Duplicate)
            {
                _acks.AwaitDuplicate(message, batch[i], _fanOut!.DeliveredTo(message.SenderId), _ready);
                continue;
            }
            _lastSeq = message.Seq;
            if (message.Event is not null) ApplyCommittedEvent(message);
            MessengerMetrics.Committed.Add(1);
            _recent.Add(message);
            _typing.Stopped(message.SenderId);
            receiptsMoved |= MoveReceipts(message.SenderId, message.Seq, message.Seq); // sending means having read what came before
            _acks.AwaitNew(message, batch[i]);
        }
        CompleteReadyAcks();
        _fanOut!.Advance(_lastSeq, Senders(batch));
        // After the deliveries have started: those to the senders of what was just read carry the new counts.
        if (receiptsMoved) RequestReceiptFlush();
    }

    /// <summary>The batch's senders in a group (each ack waits for its sender's own delivery: those go first); null for a direct conversation.</summary>
    private List<string>? Senders(List<PendingSend> batch)
    {
        if (_info!.Kind == ConversationKind.Direct) return null;
        var senders = new List<string>(2);
        foreach (var send in batch) if (!senders.Contains(send.Message.SenderId)) senders.Add(send.Message.SenderId);
        return senders;
    }

    ValueTask<IReadOnlyList<ChatMessage>> IFanOutTarget.ReadAfterAsync(long afterSeq, int limit)
    {
        // Members at the same position (the common case) share one page.
        if (_lastRead.Page is not null && _lastRead.After == afterSeq && _lastRead.LastSeq == _lastSeq) return ValueTask.FromResult(_lastRead.Page);
        if (_recent.TryGetPage(afterSeq, HistoryDirection.After, limit, _lastSeq, out var page))
        {
            _lastRead = (afterSeq, _lastSeq, page);
            return ValueTask.FromResult(page);
        }
        return new ValueTask<IReadOnlyList<ChatMessage>>(_store.ReadMessagesAsync(Id, afterSeq, HistoryDirection.After, limit));
    }

    /// <summary>
    /// Delivers to a member, carrying the changed counts of their own messages when some are owed to them (one append
    /// and push for both; see <see cref="ReceiptsOwedTo"/>). One async method on purpose: each layer is a continuation
    /// more per delivery.
    /// </summary>
    async Task<DeliveryReceipt> IFanOutTarget.DeliverAsync(string userId, IReadOnlyList<ChatMessage> messages)
    {
        if (!_deletedMembers.Contains(userId))
        {
            var receipts = ReceiptsOwedTo(userId);
            if (receipts is not null) Carriers.Begin(userId);
            var arrived = false;
            try
            {
                var receipt = await UserGrain(userId).DeliverAsync(_listInfo!, messages, receipts);
                if (receipts is not null)
                {
                    foreach (var r in receipts) _sentCounts[r.Seq] = r;
                    arrived = true;
                }
                return receipt;
            }
            catch (MessengerException ex) when (ex.Code == ErrorCode.UserDeleted)
            {
                // Their deletion began after this conversation was created but did not list it: mark it here.
                await MemberDeletedAsync(userId);
            }
            finally
            {
                if (receipts is not null) EndCarrier(userId, arrived);
            }
        }
        return new DeliveryReceipt(new long[messages.Count], false); // nothing is kept for a deleted user
    }

    // A member whose account is being deleted does not join; the conversation records them as deleted, as
    // the deletion would have, had it listed this conversation.
    private async Task JoinAsync(string userId, ConversationInfo info)
    {
        try
        {
            await UserGrain(userId).JoinConversationAsync(info.ForList());
        }
        catch (MessengerException ex) when (ex.Code == ErrorCode.UserDeleted)
        {
            await MemberDeletedAsync(userId);
        }
    }

    void IFanOutTarget.OnDelivered(string userId, IReadOnlyList<ChatMessage> messages, DeliveryReceipt receipt, bool markMoved)
    {
        _liveness.Set(userId, receipt.Live);
        if (receipt.Live) AdvanceReceipts(userId, messages[^1].Seq, 0);
        if (markMoved) _mark.Request(_fanOut!.Mark);
        _acks.TakeSettled(userId, messages, receipt, _ready);
        CompleteReadyAcks();
    }

    void IFanOutTarget.OnDeliveryFailed(string userId, Exception error, TimeSpan retryIn) =>
        _logger.LogWarning(error, "Conversation {ConversationId}: delivery to {UserId} failed; retrying in {Delay}", Id, userId, retryIn);

    private void CompleteReadyAcks()
    {
        foreach (var ready in _ready) _ = CompleteAckAsync(ready);
        _ready.Clear();
    }

    private async Task CompleteAckAsync(ReadyAck ready)
    {
        try
        {
            var message = ready.Message;
            var userSeq = ready.UserSeq;
            // (A deleted member's log is gone: nothing to look up.)
            if (userSeq == 0 && !_deletedMembers.Contains(message.SenderId)) userSeq = await UserGrain(message.SenderId).FindUserSeqAsync(Id, message.Seq);
            IReadOnlyList<string> offline = [];
            if (!ready.Duplicate)
            {
                if (_livenessQuery is { IsCompleted: false } query) await Task.WhenAny(query, Task.Delay(LivenessQueryLimit, _time));
                // A group's ack lists nobody: a list of the offline members of a large group would make every ack as large
                // as the group (receipts say who received each message).
                if (_info!.Kind == ConversationKind.Direct) offline = _liveness.OfflineOthers(_info.Members, message.SenderId);
            }
            ready.Send.Ack.TrySetResult(new SendAck(message, userSeq, ready.Duplicate, offline));
            _dedup.Settled(ready.Send.Message.SenderId, ready.Send.Message.ClientMsgId, message, userSeq);
        }
        catch (Exception ex)
        {
            // The message is committed: a retry is answered by the store's unique index rather than by this failure.
            _dedup.Remove(ready.Send.Message.SenderId, ready.Send.Message.ClientMsgId);
            ready.Send.Ack.TrySetException(ex);
        }
    }

    /// <summary>Once per activation, before the first ack: which members have a live device.</summary>
    private async Task QueryLivenessAsync()
    {
        var members = _info!.Members;
        var reports = new Task<bool>[members.Count];
        for (var i = 0; i < reports.Length; i++) reports[i] = UserGrain(members[i]).ReportLivenessAsync(Id);
        for (var i = 0; i < reports.Length; i++)
        {
            try
            {
                _liveness.Set(members[i], await reports[i]);
            }
            catch (Exception ex)
            {
                _logger.LogDebug(ex, "Conversation {ConversationId}: liveness of {UserId} unknown", Id, members[i]);
            }
        }
    }

    public Task MemberLivenessChangedAsync(string userId, bool live)
    {
        if (_members?.Current(userId) is not null) _liveness.Set(userId, live);
        return Task.CompletedTask;
    }

    public async Task MemberDeletedAsync(string userId)
    {
        if (_members?.Find(userId) is null || _deletedMembers.Contains(userId)) return;
        await _store.MarkMemberDeletedAsync(Id, userId);
        _deletedMembers.Add(userId);
        _members.MarkDeleted(userId);
        if (_info!.Kind == ConversationKind.Group && _members.Current(userId) is not null)
        {
            // A deleted account leaves its groups (handing the owner role on if it was the last owner), so that no
            // group is left with an owner who can no longer act.
            _ = LeaveForDeletedAsync(userId);
        }
        _liveness.Set(userId, false);
        _logger.LogInformation("Conversation {ConversationId}: member {UserId} deleted their account", Id, userId);
    }

    private async Task LeaveForDeletedAsync(string userId)
    {
        try
        {
            await CommitEventsAsync(userId, _members!.Leave(userId));
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Conversation {ConversationId}: deleted member {UserId} could not leave", Id, userId);
        }
    }

    public async Task<HistoryPage> GetHistoryAsync(string callerId, long cursor, HistoryDirection direction, int limit)
    {
        var joinedSeq = EnsureMember(callerId).JoinedSeq;
        if (limit < 1 || limit > _options.MaxPageSize)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"limit must be 1 to {_options.MaxPageSize}.");
        }
        if (cursor < 0) throw new MessengerException(ErrorCode.OutOfRange, "cursor must not be negative.");
        var lastSeq = _lastSeq;
        if (direction == HistoryDirection.Before && cursor > lastSeq + 1) cursor = lastSeq + 1;
        // A member sees the log from the seq they joined at.
        if (direction == HistoryDirection.After && cursor < joinedSeq - 1) cursor = joinedSeq - 1;
        if (direction == HistoryDirection.Before && cursor <= joinedSeq) return new HistoryPage([], false, lastSeq);
        var messages = _recent.TryGetPage(cursor, direction, limit, lastSeq, out var cached)
            ? cached
            : await _store.ReadMessagesAsync(Id, cursor, direction, limit);
        if (messages.Count > 0 && messages[0].Seq < joinedSeq) messages = FromSeq(messages, joinedSeq);
        // A device that fetched a page has the conversation up to its newest message (PROTOCOL 4.16): a
        // device that starts from the conversation list and history, not from a sync, receives this way.
        if (messages.Count > 0) AdvanceReceipts(callerId, messages[^1].Seq, 0); // pages are in seq order, either direction
        var hasMore = messages.Count > 0 && (direction == HistoryDirection.Before ? messages[0].Seq > joinedSeq : messages[^1].Seq < lastSeq);
        return new HistoryPage(messages, hasMore, lastSeq);
    }

    public Task ResumeFanOutAsync() => Task.CompletedTask;

    public Task TypingAsync(string userId)
    {
        EnsureMember(userId);
        _typing.Signal(userId);
        return Task.CompletedTask;
    }

    private static List<ChatMessage> FromSeq(IReadOnlyList<ChatMessage> messages, long seq)
    {
        var kept = new List<ChatMessage>(messages.Count);
        foreach (var message in messages) if (message.Seq >= seq) kept.Add(message);
        return kept;
    }

    /// <summary>Tells every other current member's live devices; ephemeral, so fire and forget.</summary>
    private void BroadcastTyping(TypingEvent typing)
    {
        foreach (var member in _info!.Members)
        {
            if (member != typing.UserId && !_deletedMembers.Contains(member)) UserGrain(member).PushTypingAsync(typing).Ignore();
        }
    }

    private MemberRecord EnsureMember(string userId)
    {
        if (_broken) throw Broken();
        return _members?.Current(userId) ?? throw NotMember();
    }

    private static MessengerException Broken() =>
        new(ErrorCode.Unavailable, "the conversation is reloading after a failed write; retry shortly (a send with the same clientMsgId).");

    private MessengerException NotMember() =>
        new(ErrorCode.NotMember, $"conversation '{Id}' does not exist or you are not a member of it.");
}
