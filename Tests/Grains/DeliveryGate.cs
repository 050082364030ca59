using System.Collections.Concurrent;
using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>
/// A barrier in front of one user's <see cref="IUserGrain.DeliverAsync"/>, installed as a grain call
/// filter in the test silos: while a user is held, deliveries to them wait inside their grain (as
/// for a member whose silo or disk is slow), deterministically and without sleeps. It can also make
/// the next calls of <see cref="IUserGrain.DeliverAsync"/> or <see cref="IUserGrain.AddReceiptsAsync"/> to a user fail.
/// </summary>
public static class DeliveryGate
{
    private static readonly ConcurrentDictionary<string, int> ReceiptFailures = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> DeliveryFailures = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="count"/> deliveries to <paramref name="userId"/>'s grain fail (0: none more).</summary>
    public static void FailDeliveries(string userId, int count) => DeliveryFailures[userId] = count;

    /// <summary>How many of the failures <see cref="FailDeliveries"/> asked for are still to come.</summary>
    public static int DeliveryFailuresLeft(string userId) => DeliveryFailures.GetValueOrDefault(userId);

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Held = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Arrived = new(StringComparer.Ordinal);

    /// <summary>Holds deliveries to <paramref name="userId"/> until the returned handle is disposed.</summary>
    public static IDisposable Hold(string userId)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Held[userId] = gate;
        Arrived[userId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return new Release(userId, gate);
    }

    /// <summary>Completes once a delivery to a held user has reached the gate.</summary>
    public static Task ReachedAsync(string userId) => Arrived[userId].Task;

    /// <summary>The next <paramref name="count"/> receipt updates sent to <paramref name="userId"/>'s grain fail.</summary>
    public static void FailReceipts(string userId, int count) => ReceiptFailures[userId] = count;

    /// <summary>How many of the failures <see cref="FailReceipts"/> asked for are still to come.</summary>
    public static int ReceiptFailuresLeft(string userId) => ReceiptFailures.GetValueOrDefault(userId);

    internal static bool TakeReceiptFailure(string userId) => Take(ReceiptFailures, userId);

    internal static bool TakeDeliveryFailure(string userId) => Take(DeliveryFailures, userId);

    private static bool Take(ConcurrentDictionary<string, int> failures, string userId)
    {
        while (failures.TryGetValue(userId, out var left) && left > 0)
        {
            if (failures.TryUpdate(userId, left - 1, left)) return true;
        }
        return false;
    }

    internal static Task WaitAsync(string userId)
    {
        if (!Held.TryGetValue(userId, out var gate)) return Task.CompletedTask;
        if (Arrived.TryGetValue(userId, out var arrived)) arrived.TrySetResult();
        return gate.Task;
    }

    private sealed class Release(string userId, TaskCompletionSource gate) : IDisposable
    {
        public void Dispose()
        {
            Held.TryRemove(userId, out _);
            gate.TrySetResult();
        }
    }
}

/// <summary>The grain call filter that makes <see cref="DeliveryGate"/> work.</summary>
public sealed class DeliveryGateFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod.DeclaringType == typeof(IUserGrain))
        {
            var userId = context.TargetId.Key.ToString()!;
            if (context.InterfaceMethod.Name == nameof(IUserGrain.DeliverAsync))
            {
                await DeliveryGate.WaitAsync(userId);
                if (DeliveryGate.TakeDeliveryFailure(userId)) throw new InvalidOperationException("delivery refused by the test");
            }
            if (context.InterfaceMethod.Name == nameof(IUserGrain.AddReceiptsAsync) && DeliveryGate.TakeReceiptFailure(userId))
            {
                throw new InvalidOperationException("receipts refused by the test");
            }
        }
        await context.Invoke();
    }
}
