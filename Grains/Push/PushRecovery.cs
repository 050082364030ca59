using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Messenger.Grains.Push;

/// <summary>
/// The outbox's sweeper, on every silo once it is active: wakes the user grains of notifications that are
/// overdue (their grain died with a silo, or was collected while a retry waited), at once and then every
/// <see cref="PushOptions.ScanInterval"/>, and every hour deletes finished rows older than
/// <see cref="PushOptions.Retention"/>. Waking a grain twice is harmless.
/// </summary>
internal sealed class PushRecovery(IPushOutboxStore store, IGrainFactory grains, IOptions<PushOptions> options, TimeProvider time,
    ILogger<PushRecovery> logger) : SiloLoop
{
    /// <summary>A row this late is taken for one whose grain is not running (a running one decides within moments).</summary>
    private static readonly TimeSpan Overdue = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    protected override async Task RunAsync()
    {
        var o = options.Value;
        var lastPrune = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(o.ScanInterval, time);
        try
        {
            do
            {
                var now = time.GetUtcNow();
                await WakeOverdueAsync((now - Overdue).ToUnixTimeMilliseconds());
                if (now - lastPrune >= PruneInterval)
                {
                    lastPrune = now;
                    await PruneAsync((now - o.Retention).ToUnixTimeMilliseconds());
                }
            }
            while (await timer.WaitForNextTickAsync(Stopping));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WakeOverdueAsync(long dueMs)
    {
        try
        {
            var users = await store.ListUsersDueAsync(dueMs, 10_000);
            await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = Stopping },
                async (userId, _) => await grains.GetGrain<IUserGrain>(userId).ResumePushAsync());
            if (users.Count > 0) logger.LogInformation("Took up the overdue notifications of {Count} users", users.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Looking for overdue notifications failed");
        }
    }

    private async Task PruneAsync(long beforeMs)
    {
        try
        {
            var pruned = await store.PruneAsync(beforeMs);
            if (pruned > 0) logger.LogInformation("Deleted {Count} finished notification states past their retention", pruned);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Deleting old notification states failed");
        }
    }
}
