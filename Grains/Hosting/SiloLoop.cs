namespace Messenger.Grains.Hosting;

/// <summary>
/// Work a silo runs in the background from the moment it is active until it stops: <see cref="RunAsync"/> is
/// started then, and <see cref="Stopping"/> is cancelled when the silo leaves the active stage.
/// </summary>
internal abstract class SiloLoop : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the silo stops.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(GetType().Name, ServiceLifecycleStage.Active,
        ct =>
        {
            _ = RunAsync();
            return Task.CompletedTask;
        },
        ct =>
        {
            _stopping.Cancel();
            return Task.CompletedTask;
        });

    /// <summary>The loop; it returns (or throws <see cref="OperationCanceledException"/>) once <see cref="Stopping"/> is cancelled.</summary>
    protected abstract Task RunAsync();
}
