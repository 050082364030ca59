using Messenger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Hosting;

/// <summary>
/// Migrates every database of the storage before any grain runs, and once the silo is active wakes
/// every conversation whose fan-out a crash interrupted, so its members get those messages without
/// anyone sending again.
/// </summary>
internal sealed class MessengerSiloLifecycle(MessengerStorage storage, IGrainFactory grains, ILogger<MessengerSiloLifecycle> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(MessengerSiloLifecycle), ServiceLifecycleStage.RuntimeInitialize, async ct =>
        {
            foreach (var schema in storage.Schemas) await schema.MigrateAsync(ct);
        });
        lifecycle.Subscribe(nameof(MessengerSiloLifecycle), ServiceLifecycleStage.Active, ct =>
        {
            _ = ResumeFanOutAsync();
            return Task.CompletedTask;
        });
    }

    private async Task ResumeFanOutAsync()
    {
        try
        {
            var pending = await storage.Conversations.ListConversationsPendingFanOutAsync(10_000);
            foreach (var conversationId in pending)
            {
                await grains.GetGrain<IConversationGrain>(conversationId).ResumeFanOutAsync();
            }
            if (pending.Count > 0) logger.LogInformation("Resumed fan-out of {Count} conversations", pending.Count);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Resuming interrupted fan-outs failed");
        }
    }
}
