using Messenger.Grains.Users;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains;

// The user's devices (logins, logouts, the grants every gateway checks tokens against) and the deletion
// of the account. Revocation reaches every gateway before the call returns: each gateway that holds a
// copy of the grants registered itself (WatchDevicesAsync) and every gateway holding a session of the
// user is known, and all of them are told, and waited for, after the change is durable.
public sealed partial class UserGrain : IRemindable
{
    /// <summary>
    /// Registered before a deletion begins and removed when it is done: if the silo dies in between, the
    /// reminder activates the grain again (a timer would die with it), and the activation finishes the job.
    /// </summary>
    internal const string DeletionReminder = "finish-deletion";

    /// <summary>How long a logout waits for one gateway to take the change before going on without it.</summary>
    private static readonly TimeSpan GatewayPushTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan DeletionRetryInterval = TimeSpan.FromSeconds(10);

    private IGrainTimer? _deletionRetry;

    private DeviceGrants Grants => _devices.Grants(Id, _profile is not null);

    public async Task<long> LogInDeviceAsync(string deviceId, string? name)
    {
        EnsureExists();
        var (generation, evicted) = await _devices.LogInAsync(deviceId, name, _presence.Now);
        if (evicted is not null)
        {
            _logger.LogInformation("User {UserId}: device {DeviceId} logged out to make room for {NewDeviceId}", Id, evicted, deviceId);
            await TellGatewaysAsync(await _presence.EndDeviceAsync(evicted));
        }
        return generation;
    }

    public Task<IReadOnlyList<DeviceInfo>> ListDevicesAsync()
    {
        EnsureExists();
        return Task.FromResult<IReadOnlyList<DeviceInfo>>(_devices.List(_presence.Devices.IsLive, _presence.Now));
    }

    public async Task LogOutDeviceAsync(string deviceId)
    {
        EnsureExists();
        if (!await _devices.LogOutAsync(deviceId))
        {
            throw DeviceNotFound(deviceId);
        }
        await TellGatewaysAsync(await _presence.EndDeviceAsync(deviceId));
    }

    public Task<DeviceGrants> WatchDevicesAsync(IUpdateObserver gateway, string deviceId)
    {
        var grants = Grants;
        if (!grants.Exists) return Task.FromResult(grants);
        var now = _presence.Now;
        _deviceWatchers.Watch(gateway, now);
        _devices.Touch(deviceId, now);
        return Task.FromResult(grants);
    }

    public async Task DeleteAccountAsync()
    {
        EnsureExists();
        await this.RegisterOrUpdateReminder(DeletionReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        // From this write on no token of the user is good; the rest can be finished later by this grain alone.
        await _devices.BeginDeletionAsync();
        _logger.LogInformation("User {UserId}: deleting the account", Id);
        try
        {
            await TellGatewaysAsync(_presence.EndAll());
            await FinishDeletionAsync();
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "User {UserId}: deleting the account failed part way; retrying every {Interval}", Id, DeletionRetryInterval);
            ScheduleDeletionRetry(DeletionRetryInterval);
            throw;
        }
    }

    /// <summary>
    /// The steps after the tokens were revoked, each idempotent, so a retry after a failure or a crash
    /// repeats them safely: conversations told, the account removed, then the user's own data.
    /// </summary>
    private async Task FinishDeletionAsync()
    {
        var conversations = new List<Task>();
        foreach (var entry in _log.Conversations.All)
        {
            conversations.Add(GrainFactory.GetGrain<IConversationGrain>(entry.Conversation.ConversationId).MemberDeletedAsync(Id));
        }
        await Task.WhenAll(conversations);
        await _accounts.DeleteAccountAsync(Id);
        _profile = null;
        await _log.CloseAsync(); // a checkpoint still due (or a retry of a failed one) would write the list again after the delete
        _pushOutbox.Clear();
        await _logStore.DeleteUserAsync(Id);
        await _devices.CompleteDeletionAsync();
        _deletionRetry?.Dispose();
        _deletionRetry = null;
        await ForgetDeletionReminderAsync();
        _logger.LogInformation("User {UserId}: the account is deleted", Id);
        DeactivateOnIdle();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != DeletionReminder) return;
        if (_devices.Deleting) await TryFinishDeletionAsync();
        else await ForgetDeletionReminderAsync(); // done (or never begun): nothing left to finish
    }

    // The one retry of an unfinished deletion, run by the timer and by the reminder alike: a tick queued
    // before the deletion finished finds nothing left to do.
    private async Task TryFinishDeletionAsync()
    {
        if (!_devices.Deleting) return;
        try
        {
            _presence.EndAll();
            await FinishDeletionAsync();
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "User {UserId}: finishing the deletion of the account failed; retrying", Id);
        }
    }

    private async Task ForgetDeletionReminderAsync()
    {
        if (await this.GetReminder(DeletionReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private void ScheduleDeletionRetry(TimeSpan due)
    {
        _deletionRetry ??= this.RegisterGrainTimer(_ => TryFinishDeletionAsync(),
            new GrainTimerCreationOptions(due, DeletionRetryInterval) { KeepAlive = true });
    }

    /// <summary>
    /// Tells every gateway that may check this user's tokens (those holding a copy of the grants, and
    /// <paramref name="sessionGateways"/>, which held sessions that just ended) the new grants, and waits
    /// for each, a bounded time: a gateway that cannot be reached stops trusting its copy within its own
    /// trust interval (see the gateway's DeviceGrantCache).
    /// </summary>
    private async Task TellGatewaysAsync(List<IUpdateObserver> sessionGateways)
    {
        var grants = Grants;
        var gateways = _deviceWatchers.Live(_presence.Now);
        foreach (var gateway in sessionGateways)
        {
            if (!gateways.Contains(gateway)) gateways.Add(gateway);
        }
        var pushes = new Task[gateways.Count];
        for (var i = 0; i < pushes.Length; i++) pushes[i] = PushAsync(gateways[i], grants);
        await Task.WhenAll(pushes);
    }

    private async Task PushAsync(IUpdateObserver gateway, DeviceGrants grants)
    {
        try
        {
            await gateway.OnDevicesChangedAsync(grants).WaitAsync(GatewayPushTimeout);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "User {UserId}: a gateway did not take the new device grants", Id);
        }
    }

    /// <summary>Writes the devices state (a copy with the change); the grain's state object changes only once it is durable.</summary>
    private async Task WriteDevicesAsync(UserDevicesState next)
    {
        var previous = _devicesState.State;
        _devicesState.State = next;
        try
        {
            await _devicesState.WriteStateAsync();
        }
        catch
        {
            _devicesState.State = previous;
            throw;
        }
    }

    private async Task FlushDevicesAsync()
    {
        try
        {
            await _devices.FlushAsync();
        }
        catch (Exception ex)
        {
            // Only "last active" times are lost.
            _logger.LogWarning(ex, "User {UserId}: could not save the devices' last-active times", Id);
        }
    }

    private static MessengerException LoggedOut() => MessengerException.TokenRefused(ErrorCode.LoggedOut);
}
