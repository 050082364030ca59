using Messenger.Grains.Conversations;
using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Hosting;

/// <summary>
/// Migrates every database of the storage before any grain runs. Once the silo is active, wakes every
/// conversation whose fan-out a crash interrupted, so its members get those messages without anyone
/// sending again; and does so again whenever another silo of the cluster dies (the grains it held are
/// gone, and nothing else would wake them), from one silo only: the oldest one still active.
/// </summary>
internal sealed class MessengerSiloLifecycle(
    MessengerStorage storage, IGrainFactory grains, IClusterMembershipService membership, ILocalSiloDetails local,
    ILogger<MessengerSiloLifecycle> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(MessengerSiloLifecycle), ServiceLifecycleStage.RuntimeInitialize, async ct =>
        {
            foreach (var schema in storage.Schemas) await schema.MigrateAsync(ct);
        });
        lifecycle.Subscribe(nameof(MessengerSiloLifecycle), ServiceLifecycleStage.Active,
            ct =>
            {
                _ = ResumeFanOutAsync();
                _ = SweepWhenSilosDieAsync();
                return Task.CompletedTask;
            },
            ct =>
            {
                _stopping.Cancel();
                return Task.CompletedTask;
            });
    }

    private async Task SweepWhenSilosDieAsync()
    {
        try
        {
            ClusterMembershipSnapshot? previous = null;
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                // The first snapshot is the table as it stands, with every death ever recorded: the sweep at start covers those.
                var someoneDied = previous is not null && snapshot.CreateUpdate(previous).Changes.Any(c => c.Status == SiloStatus.Dead);
                previous = snapshot;
                if (!someoneDied) continue;
                var oldest = snapshot.Members.Values
                    .Where(m => m.Status == SiloStatus.Active)
                    .Select(m => m.SiloAddress)
                    .OrderBy(a => a.Generation).ThenBy(a => a.ToParsableString(), StringComparer.Ordinal)
                    .FirstOrDefault();
                if (local.SiloAddress.Equals(oldest)) await ResumeFanOutAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ResumeFanOutAsync()
    {
        try
        {
            var resumed = await PendingFanOuts.ResumeAllAsync(storage.Conversations,
                conversationId => grains.GetGrain<IConversationGrain>(conversationId).ResumeFanOutAsync(), logger,
                cancellationToken: _stopping.Token);
            if (resumed > 0) logger.LogInformation("Resumed fan-out of {Count} conversations", resumed);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Resuming interrupted fan-outs failed");
        }
    }
}
