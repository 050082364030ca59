using System.Data.Common;

namespace Messenger.Grains.Hosting;

/// <summary>
/// Turns a transient database failure (the database restarting, a connection refused or cut) that
/// escapes a grain call into <see cref="ErrorCode.Unavailable"/>, which the gateway passes to the client
/// as "retry": nothing half-done stays behind such a failure (a write either committed or not, and a
/// retried send finds its original). Installed where storage is reached over the network (PostgreSQL).
/// </summary>
internal sealed class StorageFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (DbException ex) when (Unavailable(ex) is { } error)
        {
            throw error;
        }
    }

    /// <summary>The client's error for a transient database failure, or null for any other failure.</summary>
    public static MessengerException? Unavailable(Exception ex) => ex is DbException { IsTransient: true }
        ? new MessengerException(ErrorCode.Unavailable, $"the database cannot be reached for a moment ({ex.Message}); retry (a send with the same clientMsgId).")
        : null;
}
