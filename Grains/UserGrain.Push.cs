using Messenger.Grains.Delivery;
using Messenger.Grains.Push;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains;

// Push notifications: the user's subscriptions (one per device, kept with the device's record, so a
// logout removes it), the outbox rows written with the pointers they are for, and the one decision per
// message, made when its delay is over and the delivery outcome is known: received by a device
// (live or by syncing), read, muted, or sent (a burst of one conversation as one notification).
public sealed partial class UserGrain
{
    private readonly ReceivedMark _received = new();
    private IGrainTimer? _pushTimer;
    private long _pushTimerDueMs;

    public async Task<DevicePushSubscription> SetPushSubscriptionAsync(string deviceId, PushSubscription subscription)
    {
        EnsureExists();
        var valid = PushSubscriptionRules.Validate(subscription, _pushOptions);
        if (!await _devices.SetPushAsync(deviceId, valid, _presence.Now)) throw DeviceNotFound(deviceId);
        _logger.LogInformation("User {UserId}: device {DeviceId} subscribed to push ({Kind})", Id, deviceId, valid.Kind);
        return _devices.PushSubscriptions().First(s => s.DeviceId == deviceId);
    }

    public Task<IReadOnlyList<DevicePushSubscription>> ListPushSubscriptionsAsync()
    {
        EnsureExists();
        return Task.FromResult<IReadOnlyList<DevicePushSubscription>>(_devices.PushSubscriptions());
    }

    public async Task DeletePushSubscriptionAsync(string deviceId)
    {
        EnsureExists();
        if (!_devices.State.Devices.TryGetValue(deviceId, out var record) || record.Push is null)
        {
            throw new MessengerException(ErrorCode.SubscriptionNotFound, $"device '{deviceId}' has no push subscription.");
        }
        await _devices.SetPushAsync(deviceId, null, _presence.Now);
    }

    public Task<PushSettings> GetPushSettingsAsync()
    {
        EnsureExists();
        return Task.FromResult(new PushSettings(_devices.State.PushPreview));
    }

    public async Task<PushSettings> SetPushSettingsAsync(PushSettings settings)
    {
        EnsureExists();
        await _devices.SetPushPreviewAsync(settings.Preview);
        return new PushSettings(_devices.State.PushPreview);
    }

    public async Task<IReadOnlyList<PushStatus>> ListPushStatusesAsync(string conversationId, long afterSeq, int limit)
    {
        EnsureExists();
        if (!_log.Conversations.TryGet(conversationId, out _)) throw NotMember(conversationId);
        if (limit < 1 || limit > _options.MaxPageSize) throw new MessengerException(ErrorCode.OutOfRange, $"limit must be 1 to {_options.MaxPageSize}.");
        if (afterSeq < 0) throw new MessengerException(ErrorCode.OutOfRange, "after must not be negative.");
        var rows = await _pushStore.ReadAsync(Id, conversationId, afterSeq, limit);
        var statuses = new List<PushStatus>(rows.Count);
        foreach (var r in rows)
        {
            statuses.Add(new PushStatus(r.ConversationId, r.Seq, r.UserSeq, r.State, r.Attempts, r.Detail,
                DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedMs), DateTimeOffset.FromUnixTimeMilliseconds(r.UpdatedMs),
                PushOutbox.NotificationId(Id, r.ConversationId, r.Seq)));
        }
        return statuses;
    }

    public async Task ResumePushAsync()
    {
        // The store is the truth: rows this activation does not hold (it never loaded them, having no
        // subscription then) are taken up now, and settle (no subscription left: no_subscription).
        if (Exists) _pushOutbox.Track(await _pushStore.ReadPendingAsync(Id));
        ArmPushTimer();
    }

    public async Task PushAttemptedAsync(string conversationId, long seq, IReadOnlyList<PushAttempt> attempts)
    {
        if (!Exists) return;
        var now = NowMs;
        var row = _pushOutbox.Complete(conversationId, seq, attempts, now);
        if (row is not null)
        {
            try
            {
                await SavePushRowsAsync([row]);
            }
            catch
            {
                // Memory moved ahead of the store: start over from the store (the row is sent again at its lease's end).
                _pushOutbox.Clear();
                DeactivateOnIdle();
                throw;
            }
        }
        foreach (var attempt in attempts)
        {
            if (attempt.Outcome != PushOutcome.Gone) continue;
            // Only the subscription the service refused: the device may have subscribed again meanwhile.
            if (_devices.State.Devices.TryGetValue(attempt.DeviceId, out var record) && record.Push == attempt.Subscription)
            {
                await _devices.SetPushAsync(attempt.DeviceId, null, _presence.Now);
                MessengerMetrics.PushSubscriptionsRemoved.Add(1);
                _logger.LogInformation("User {UserId}: removed the push subscription of device {DeviceId} ({Detail})", Id, attempt.DeviceId, attempt.Detail);
            }
        }
        ArmPushTimer();
    }

    /// <summary>Outbox rows for the messages of a delivery that may need a notification (none when the user has no subscription).</summary>
    private List<PushRecord>? PushRowsFor(IReadOnlyList<ChatMessage> messages, long[] userSeqs, UserConversation entry)
    {
        if (!_devices.HasPush) return null;
        List<PushRecord>? rows = null;
        var now = NowMs;
        var muted = entry.MutedUntilMs > now;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (userSeqs[i] == 0 || message.Event is not null || message.SenderId == Id) continue;
            (rows ??= []).Add(_pushOutbox.Create(message, userSeqs[i], muted, now));
        }
        return rows;
    }

    /// <summary>The rows are durable: pending ones wait for their delay.</summary>
    private void TrackPushRows(List<PushRecord>? rows)
    {
        if (rows is null) return;
        foreach (var r in rows) if (r.State == PushState.Muted) Count(r.State);
        _pushOutbox.Track(rows);
        ArmPushTimer();
    }

    private async Task LoadPushAsync()
    {
        if (!_devices.HasPush) return;
        _pushOutbox.Track(await _pushStore.ReadPendingAsync(Id));
        ArmPushTimer();
    }

    /// <summary>Sets the timer to the next row due (or drops it when nothing waits).</summary>
    private void ArmPushTimer()
    {
        var next = _pushOutbox.NextDueMs();
        if (next is null)
        {
            _pushTimer?.Dispose();
            _pushTimer = null;
            return;
        }
        if (_pushTimer is not null && _pushTimerDueMs == next) return;
        _pushTimer?.Dispose();
        _pushTimerDueMs = next.Value;
        var due = TimeSpan.FromMilliseconds(Math.Max(0, next.Value - NowMs));
        _pushTimer = this.RegisterGrainTimer(_ => DecidePushAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task DecidePushAsync()
    {
        _pushTimer?.Dispose();
        _pushTimer = null;
        if (!Exists)
        {
            _pushOutbox.Clear();
            return;
        }
        try
        {
            var (changed, sends) = _pushOutbox.Decide(new PushView(this), NowMs);
            await SavePushRowsAsync(changed);
            foreach (var send in sends) _pushSender.Enqueue(Id, send, _devices.State.PushPreview);
        }
        catch (Exception ex)
        {
            // The rows stay pending in the store; a reload (or the silo's scan) decides them again.
            _logger.LogWarning(ex, "User {UserId}: deciding notifications failed", Id);
            _pushOutbox.Clear();
            DeactivateOnIdle();
            return;
        }
        ArmPushTimer();
    }

    private async Task SavePushRowsAsync(List<PushRecord> rows)
    {
        if (rows.Count == 0) return;
        await _pushStore.UpdateAsync(Id, rows);
        foreach (var r in rows)
        {
            if (r.State != PushState.Pending) Count(r.State);
            // What became of each notification, for the operator (category Messenger.Push, so it can be filtered).
            if (r.State != PushState.Pending || r.Detail is not null)
            {
                _pushLog.LogInformation("User {UserId}: push for {ConversationId}/{Seq} {State}{Detail}", Id, r.ConversationId, r.Seq, r.State.ToWire(),
                    r.Detail is null ? "" : $" ({r.Detail})");
            }
        }
    }

    /// <summary>Before the grain goes: what a device received is settled now (the mark lives in memory only).</summary>
    private async Task SettlePushAsync()
    {
        if (_pushOutbox.Count == 0) return;
        try
        {
            await SavePushRowsAsync(_pushOutbox.SettleReceived(_received.UserSeq, NowMs));
        }
        catch (Exception ex)
        {
            // Those rows are decided again by the next activation, which may notify a message a device already has.
            _logger.LogWarning(ex, "User {UserId}: could not settle received notifications before deactivating", Id);
        }
    }

    private static void Count(PushState state) => MessengerMetrics.PushNotifications.Add(1, new KeyValuePair<string, object?>("state", state.ToWire()));

    private long NowMs => _presence.Now.ToUnixTimeMilliseconds();

    private static MessengerException DeviceNotFound(string deviceId) => new(ErrorCode.DeviceNotFound, $"no device '{deviceId}' is logged in.");

    /// <summary>What the outbox reads of this user when it decides.</summary>
    private sealed class PushView(UserGrain grain) : IPushView
    {
        private Dictionary<string, PushSubscription>? _subscriptions;

        public long ReceivedUpTo => grain._received.UserSeq;

        public long ReadSeq(string conversationId) => grain._log.Conversations.TryGet(conversationId, out var e) ? e.ReadSeq : 0;

        public long Unread(string conversationId) => grain._log.Conversations.TryGet(conversationId, out var e) ? e.LastSeq - e.ReadSeq : 0;

        public bool IsMuted(string conversationId, long nowMs) => grain._log.Conversations.TryGet(conversationId, out var e) && e.MutedUntilMs > nowMs;

        public IReadOnlyDictionary<string, PushSubscription> Subscriptions => _subscriptions ??= grain._devices.PushSubscriptions()
            .ToDictionary(s => s.DeviceId, s => s.Subscription, StringComparer.Ordinal);
    }
}
