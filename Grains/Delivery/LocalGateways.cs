using System.Collections.Concurrent;

namespace Messenger.Grains.Delivery;

/// <summary>
/// The gateways that live in this process, by the observer reference the user grains hold for them (a standalone
/// server: one process, its gateway beside its silo). The silo's outbox (<see cref="UpdatePusher"/>) hands such a
/// gateway its batches by a plain method call instead of an Orleans message to an object of its own process: no
/// request and response messages, no callback, no hand-over to the hosted client's message pump and back. The
/// reference stays what the grains hold and compare; only the outbox looks it up. A gateway in another process (a
/// cluster) is never here, and its batches go through Orleans as before.
/// </summary>
public sealed class LocalGateways
{
    // Keyed as the outboxes are: observer references compare by the id they stand for, not by object.
    private readonly ConcurrentDictionary<IUpdateObserver, IUpdateObserver> _byReference = new();

    /// <summary>Makes <paramref name="gateway"/> the target of batches pushed to <paramref name="reference"/>.</summary>
    public void Add(IUpdateObserver reference, IUpdateObserver gateway) => _byReference[reference] = gateway;

    /// <summary>The gateway object <paramref name="reference"/> stands for when it lives in this process, else null.</summary>
    public IUpdateObserver? Find(IUpdateObserver reference) => _byReference.GetValueOrDefault(reference);
}
