using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace Messenger.Grains.Hosting;

/// <summary>
/// Turns a database failure that escapes a grain call into an error the caller can use: a transient one
/// (the database restarting, a connection refused or cut) into <see cref="ErrorCode.Unavailable"/>, which
/// the gateway passes to the client as "retry"; any other into <see cref="ErrorCode.Internal"/>. Nothing
/// half-done stays behind either (a write either committed or not, and a retried send finds its
/// original). Raw driver exceptions never cross a silo boundary: Orleans has no codec for them, and the
/// caller would get a serialization failure instead of the error.
/// </summary>
internal sealed class StorageFailureFilter(ILogger<StorageFailureFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception ex) when (ex is not MessengerException && Translate(ex) is { } error)
        {
            // The caller gets only the code: the cause stays here, in the silo's log.
            logger.LogWarning(ex, "{Method} failed on the database; answered {Code}", context.InterfaceMethod?.Name, error.Code);
            throw error;
        }
    }

    /// <summary>
    /// Runs a grain's activation (which no call filter sees) with the same translation, so that callers
    /// waiting for an activation that failed on the database get the same errors.
    /// </summary>
    public static async Task ActivateAsync(Func<Task> activate, ILogger logger)
    {
        try
        {
            await activate();
        }
        catch (Exception ex) when (ex is not MessengerException && Translate(ex) is { } error)
        {
            logger.LogWarning(ex, "Activation failed on the database; callers are answered {Code}", error.Code);
            throw error;
        }
    }

    /// <summary>The client's error for a database failure anywhere in <paramref name="ex"/>'s chain, or null when no database failed.</summary>
    public static MessengerException? Translate(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is DbException db)
            {
                return db.IsTransient
                    ? new MessengerException(ErrorCode.Unavailable, $"the database cannot be reached for a moment ({db.Message}); retry (a send with the same clientMsgId).")
                    : new MessengerException(ErrorCode.Internal, "a database operation failed; the request may be retried.");
            }
        }
        return null;
    }

    /// <summary>The client's error for a transient database failure, or null for any other failure.</summary>
    public static MessengerException? Unavailable(Exception ex) => Translate(ex) is { Code: ErrorCode.Unavailable } error ? error : null;
}
