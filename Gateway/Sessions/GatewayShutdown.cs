using Messenger.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Messenger.Gateway.Sessions;

/// <summary>
/// A gateway asked to stop (SIGTERM, a rolling upgrade, a scale-down) says so before anything else
/// stops: it refuses new sockets and reports not ready, lets every socket's requests in progress be
/// answered (up to <see cref="GatewayOptions.DrainTimeout"/>), writes what is queued, then closes each
/// socket with status 1012 and reason <c>server_shutdown</c>, which tells clients to reconnect at once,
/// elsewhere. Runs in <see cref="IHostedLifecycleService.StoppingAsync"/>, before the Orleans client
/// (or the in-process silo) and the web server stop, so requests still reach the grains meanwhile.
/// </summary>
public sealed class GatewayShutdown(GatewayNode node, ConnectionRegistry registry, IOptions<GatewayOptions> options,
    ILogger<GatewayShutdown> logger) : IHostedLifecycleService
{
    /// <summary>How long a client gets to answer the close before its connection is dropped anyway.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(3);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        node.BeginShutdown();
        var sessions = registry.AllSessions();
        var drain = options.Value.DrainTimeout;
        logger.LogInformation("Shutting down: closing {Sockets} sockets once their requests in progress are answered (at most {DrainTimeout})",
            sessions.Count, drain);
        var closing = new Task[sessions.Count];
        for (var i = 0; i < closing.Length; i++) closing[i] = CloseAsync(sessions[i], drain);
        try
        {
            await Task.WhenAll(closing).WaitAsync(drain + CloseGrace, cancellationToken);
            logger.LogInformation("Shutting down: every socket is closed");
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            logger.LogWarning("Shutting down: {Open} sockets still open after {Timeout}; the server drops them",
                closing.Count(t => !t.IsCompleted), drain + CloseGrace);
        }
    }

    private static async Task CloseAsync(ClientSession session, TimeSpan drain)
    {
        try
        {
            await session.StopTakingRequestsAsync().WaitAsync(drain);
        }
        catch (TimeoutException)
        {
            // A request still in progress loses its reply; the client sends it again after reconnecting.
        }
        session.FinishShutdown();
        await session.Ended;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
