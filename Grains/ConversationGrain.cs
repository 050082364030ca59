using Messenger.Grains.Presence;
using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Messenger.Grains;

/// <summary>
/// Owns one conversation's send path. Sends are reentrant: while one batch commits, later sends
/// queue and commit together as the next batch (group commit), order kept. Committed batches are
/// fanned out to the members' user grains one batch at a time, so each user sees a conversation's
/// messages in seq order; the sender's ack waits for its own user grain so it carries its userSeq.
/// </summary>
[Reentrant]
public sealed class ConversationGrain(
    IMessageStore store,
    IOptions<MessengerOptions> options,
    IOptions<PresenceOptions> presenceOptions,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain
{
    private readonly MessengerOptions _options = options.Value;
    private readonly PresenceOptions _presence = presenceOptions.Value;
    private readonly TypingTracker _typing = new(presenceOptions.Value.TypingTimeout, presenceOptions.Value.TypingMinInterval);
    private IGrainTimer? _typingTimer;
    private readonly SendDeduplicator _dedup = new(capacity: 4096);
    private RecentMessages _recent = null!;
    private ConversationInfo? _info;
    private long _lastSeq;
    private long _fannedOutSeq;
    private List<PendingSend> _pending = [];
    private bool _committing;
    private List<FanOutItem> _fanOutQueue = [];
    private bool _fanningOut;
    private bool _savingMark;
    private IUserGrain[] _memberGrains = [];
    private readonly List<(long Seq, TaskCompletionSource Done)> _fanOutWaiters = [];

    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _recent = new RecentMessages(_options.RecentMessages);
        var record = await store.GetConversationAsync(Id);
        if (record is null) return;
        _info = record.Info;
        _lastSeq = record.LastSeq;
        _fannedOutSeq = record.FannedOutSeq;
        if (_options.RecentMessages > 0 && _lastSeq > 0)
        {
            _recent.AddRange(await store.ReadMessagesAsync(Id, _lastSeq + 1, HistoryDirection.Before, _options.RecentMessages));
        }
        if (_fannedOutSeq < _lastSeq)
        {
            // A crash came between commit and fan-out: finish it before anything newer goes out.
            var cursor = _fannedOutSeq;
            while (cursor < _lastSeq)
            {
                var page = await store.ReadMessagesAsync(Id, cursor, HistoryDirection.After, 500);
                if (page.Count == 0) break;
                foreach (var message in page) _fanOutQueue.Add(new FanOutItem(message, null));
                cursor = page[^1].Seq;
            }
            logger.LogInformation("Conversation {ConversationId}: resuming fan-out of seq {From}..{To}", Id, _fannedOutSeq + 1, _lastSeq);
            StartFanOut();
        }
    }

    public async Task<ConversationInfo> OpenDirectAsync(string callerId)
    {
        if (_info is not null) return EnsureMember(callerId);
        if (!ConversationIds.TryParseDirect(Id, out var first, out var second))
        {
            throw new MessengerException(ErrorCode.InvalidRequest, $"'{Id}' is not a direct conversation id.");
        }
        if (callerId != first && callerId != second) throw NotMember();
        foreach (var userId in (string[])[first, second])
        {
            if (await store.FindAccountAsync(userId) is null)
            {
                throw new MessengerException(ErrorCode.UserNotFound, $"user '{userId}' does not exist.");
            }
        }
        await store.CreateConversationAsync(new ConversationInfo(Id, ConversationKind.Direct, [first, second], DateTimeOffset.UtcNow));
        var record = await store.GetConversationAsync(Id)
            ?? throw new InvalidOperationException($"Conversation {Id} vanished after creation.");
        _info ??= record.Info;
        await Task.WhenAll(
            GrainFactory.GetGrain<IUserGrain>(first).JoinConversationAsync(_info),
            GrainFactory.GetGrain<IUserGrain>(second).JoinConversationAsync(_info));
        return _info;
    }

    public Task<ConversationInfo> GetInfoAsync(string callerId) => Task.FromResult(EnsureMember(callerId));

    public Task<SendAck> SendAsync(string senderId, string clientMsgId, string text)
    {
        EnsureMember(senderId);
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
            return AsDuplicateAsync(earlier);
        }
        var pending = new PendingSend(new NewMessage(senderId, clientMsgId, text, DateTimeOffset.UtcNow));
        _dedup.Add(senderId, clientMsgId, pending.Ack.Task);
        _pending.Add(pending);
        if (!_committing) _ = CommitLoopAsync();
        return pending.Ack.Task;
    }

    private static async Task<SendAck> AsDuplicateAsync(Task<SendAck> earlier)
    {
        var ack = await earlier;
        return ack with { Duplicate = true, OfflineRecipients = [] };
    }

    public async Task<HistoryPage> GetHistoryAsync(string callerId, long cursor, HistoryDirection direction, int limit)
    {
        EnsureMember(callerId);
        if (limit < 1 || limit > _options.MaxPageSize)
        {
            throw new MessengerException(ErrorCode.OutOfRange, $"limit must be 1 to {_options.MaxPageSize}.");
        }
        if (cursor < 0) throw new MessengerException(ErrorCode.OutOfRange, "cursor must not be negative.");
        var lastSeq = _lastSeq;
        if (direction == HistoryDirection.Before && cursor > lastSeq + 1) cursor = lastSeq + 1;
        IReadOnlyList<ChatMessage> messages;
        if (!_recent.TryGetPage(cursor, direction, limit, lastSeq, out var cached))
        {
            messages = await store.ReadMessagesAsync(Id, cursor, direction, limit);
        }
        else
        {
            messages = cached;
        }
        var hasMore = direction == HistoryDirection.Before
            ? (messages.Count > 0 ? messages[0].Seq > 1 : false)
            : (messages.Count > 0 ? messages[^1].Seq < lastSeq : false);
        return new HistoryPage(messages, hasMore, lastSeq);
    }

    public Task ResumeFanOutAsync() => Task.CompletedTask;

    private async Task CommitLoopAsync()
    {
        _committing = true;
        try
        {
            while (_pending.Count > 0)
            {
                var batch = _pending;
                _pending = [];
                var messages = new NewMessage[batch.Count];
                for (var i = 0; i < batch.Count; i++) messages[i] = batch[i].Message;
                IReadOnlyList<AppendResult> results;
                try
                {
                    results = await store.AppendMessagesAsync(Id, _lastSeq, messages);
                }
                catch (Exception ex)
                {
                    // The in-memory log position can no longer be trusted: fail everything queued
                    // (clients retry with the same clientMsgId) and reload from the store.
                    logger.LogError(ex, "Conversation {ConversationId}: commit of {Count} messages failed", Id, batch.Count);
                    var error = new MessengerException(ErrorCode.Internal, "the message could not be stored; retry with the same clientMsgId.");
                    foreach (var p in batch) { _dedup.Remove(p.Message.SenderId, p.Message.ClientMsgId); p.Ack.TrySetException(error); }
                    foreach (var p in _pending) { _dedup.Remove(p.Message.SenderId, p.Message.ClientMsgId); p.Ack.TrySetException(error); }
                    _pending = [];
                    DeactivateOnIdle();
                    return;
                }
                for (var i = 0; i < results.Count; i++)
                {
                    var result = results[i];
                    if (result.Duplicate)
                    {
                        _ = AckDuplicateAsync(batch[i], result.Message);
                        continue;
                    }
                    _lastSeq = result.Message.Seq;
                    _recent.Add(result.Message);
                    if (_typing.Stop(result.Message.SenderId)) BroadcastTyping(result.Message.SenderId, typing: false);
                    _fanOutQueue.Add(new FanOutItem(result.Message, batch[i]));
                }
                StartFanOut();
            }
        }
        finally
        {
            _committing = false;
        }
    }

    private async Task AckDuplicateAsync(PendingSend pending, ChatMessage original)
    {
        try
        {
            await WaitFannedOutAsync(original.Seq);
            var userSeq = await GrainFactory.GetGrain<IUserGrain>(original.SenderId).FindUserSeqAsync(Id, original.Seq);
            pending.Ack.TrySetResult(new SendAck(original, userSeq, Duplicate: true, OfflineRecipients: []));
        }
        catch (Exception ex)
        {
            pending.Ack.TrySetException(ex);
        }
    }

    private Task WaitFannedOutAsync(long seq)
    {
        if (seq <= _fannedOutSeq) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fanOutWaiters.Add((seq, done));
        return done.Task;
    }

    private void StartFanOut()
    {
        if (!_fanningOut && _fanOutQueue.Count > 0) _ = FanOutLoopAsync();
    }

    private async Task FanOutLoopAsync()
    {
        _fanningOut = true;
        try
        {
            while (_fanOutQueue.Count > 0)
            {
                var batch = _fanOutQueue;
                _fanOutQueue = [];
                await FanOutBatchAsync(batch);
                _fannedOutSeq = batch[^1].Message.Seq;
                for (var i = _fanOutWaiters.Count - 1; i >= 0; i--)
                {
                    if (_fanOutWaiters[i].Seq <= _fannedOutSeq)
                    {
                        _fanOutWaiters[i].Done.TrySetResult();
                        _fanOutWaiters.RemoveAt(i);
                    }
                }
                SaveFanOutMark();
            }
        }
        finally
        {
            _fanningOut = false;
        }
    }

    /// <summary>
    /// Saves the fan-out mark without holding up the next batch: the mark only bounds how much a
    /// restart re-drives (user grains skip what they have), so at most one save is in flight and
    /// marks that pile up meanwhile collapse into the newest.
    /// </summary>
    private void SaveFanOutMark()
    {
        if (_savingMark) return;
        _savingMark = true;
        _ = SaveFanOutMarkLoopAsync();
    }

    private async Task SaveFanOutMarkLoopAsync()
    {
        try
        {
            long saved = -1;
            while (saved != _fannedOutSeq)
            {
                saved = _fannedOutSeq;
                await store.SetFannedOutAsync(Id, saved);
            }
        }
        catch (Exception ex)
        {
            // Only the mark is lost: re-driving later is idempotent in the user grains.
            logger.LogWarning(ex, "Conversation {ConversationId}: could not save fan-out mark {Seq}", Id, _fannedOutSeq);
        }
        finally
        {
            _savingMark = false;
        }
    }

    /// <summary>
    /// Delivers one batch to every member, retrying a failing member until it succeeds, then acks
    /// the batch's senders with their userSeq and the members that were offline.
    /// </summary>
    private async Task FanOutBatchAsync(List<FanOutItem> batch)
    {
        var info = _info!;
        var messages = new ChatMessage[batch.Count];
        for (var i = 0; i < batch.Count; i++) messages[i] = batch[i].Message;
        if (_memberGrains.Length != info.Members.Count)
        {
            _memberGrains = new IUserGrain[info.Members.Count];
            for (var m = 0; m < _memberGrains.Length; m++) _memberGrains[m] = GrainFactory.GetGrain<IUserGrain>(info.Members[m]);
        }
        var deliveries = new Task<DeliveryResult>[info.Members.Count];
        for (var m = 0; m < info.Members.Count; m++)
        {
            deliveries[m] = DeliverToMemberAsync(info, _memberGrains[m], messages);
        }
        await Task.WhenAll(deliveries);
        for (var i = 0; i < batch.Count; i++)
        {
            var pending = batch[i].Pending;
            if (pending is null) continue;
            var senderId = pending.Message.SenderId;
            long userSeq = 0;
            List<string>? offline = null;
            for (var m = 0; m < info.Members.Count; m++)
            {
                var result = deliveries[m].Result;
                if (info.Members[m] == senderId) userSeq = result.UserSeqs[i];
                else if (!result.Online) (offline ??= []).Add(info.Members[m]);
            }
            pending.Ack.TrySetResult(new SendAck(batch[i].Message, userSeq, Duplicate: false, OfflineRecipients: offline ?? (IReadOnlyList<string>)[]));
        }
    }

    private async Task<DeliveryResult> DeliverToMemberAsync(ConversationInfo info, IUserGrain user, ChatMessage[] messages)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await user.DeliverAsync(info, messages);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Conversation {ConversationId}: delivery to {UserId} failed; retrying in {Delay}", Id, user.GetPrimaryKeyString(), delay);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    public Task TypingAsync(string userId)
    {
        EnsureMember(userId);
        var now = time.GetUtcNow();
        if (_typing.Signal(userId, now)) BroadcastTyping(userId, typing: true);
        ScheduleTypingExpiry(now);
        return Task.CompletedTask;
    }

    private Task ExpireTypingAsync()
    {
        var now = time.GetUtcNow();
        if (_typing.Expire(now) is { } stopped)
        {
            foreach (var userId in stopped) BroadcastTyping(userId, typing: false);
        }
        ScheduleTypingExpiry(now);
        return Task.CompletedTask;
    }

    private void ScheduleTypingExpiry(DateTimeOffset now)
    {
        if (_typing.NextExpiry is not { } next) return;
        var due = next - now;
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        _typingTimer ??= this.RegisterGrainTimer(_ => ExpireTypingAsync(), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _typingTimer.Change(due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Tells every other member's live devices; ephemeral, so fire and forget.</summary>
    private void BroadcastTyping(string userId, bool typing)
    {
        var info = _info!;
        var typingEvent = new TypingEvent(Id, userId, typing, typing ? (int)_presence.TypingTimeout.TotalMilliseconds : 0);
        foreach (var member in info.Members)
        {
            if (member != userId) GrainFactory.GetGrain<IUserGrain>(member).PushTypingAsync(typingEvent).Ignore();
        }
    }

    private ConversationInfo EnsureMember(string userId)
    {
        var info = _info;
        if (info is null) throw NotMember();
        foreach (var member in info.Members)
        {
            if (member == userId) return info;
        }
        throw NotMember();
    }

    private MessengerException NotMember() =>
        new(ErrorCode.NotMember, $"conversation '{Id}' does not exist or you are not a member of it.");

    private sealed class PendingSend(NewMessage message)
    {
        public NewMessage Message { get; } = message;
        public TaskCompletionSource<SendAck> Ack { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly record struct FanOutItem(ChatMessage Message, PendingSend? Pending);
}
