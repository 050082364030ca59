using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Messenger.Testing;

/// <summary>
/// What the tests and the bench both need to run a server as a real process: a free loopback port,
/// and a wait until its <c>/healthz</c> answers. Compiled into Tests and linked into Bench.
/// </summary>
public static class ServerProbe
{
    /// <summary>
    /// Settings for every gateway a test or the bench starts: they register and log in all their accounts
    /// from one loopback address, far faster than the per-address limit lets a real client
    /// (Auth:AttemptsPerAddressPerMinute). A test of that limit passes its own, which comes later and wins.
    /// </summary>
    public static readonly string[] GatewayArgs = ["--Auth:AttemptsPerAddressPerMinute=1000000"];

    /// <summary>A loopback TCP port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Returns once <c>GET /healthz</c> on <paramref name="baseAddress"/> answers 200; throws if
    /// <paramref name="process"/> exits first or <paramref name="timeout"/> passes. <paramref name="describe"/>
    /// says what to look at (output, log file) in the exception.
    /// </summary>
    public static async Task WaitHealthyAsync(Uri baseAddress, Process process, TimeSpan timeout, Func<string> describe)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                // Waits for the redirected output to be read to its end too: without it, what the process wrote last
                // (the reason it stopped) may not have been handed to the output handlers yet.
                await process.WaitForExitAsync();
                throw new InvalidOperationException($"the server exited with {process.ExitCode}; {describe()}");
            }
            try
            {
                using var response = await http.GetAsync("healthz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server was not healthy after {timeout}; {describe()}");
    }
}
