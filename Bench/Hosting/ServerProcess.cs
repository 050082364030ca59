using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Messenger.Testing;

namespace Messenger.Bench.Hosting;

/// <summary>
/// A server the bench starts as a separate process on a free loopback port: the real Gateway
/// (standalone: in-process silo + SQLite) or the bench's own bare relay. Its output goes to a log
/// file whose warnings and errors are summarised for the report.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly ServerLog _summary = new();

    private ServerProcess(string name, Process process, Uri baseAddress, string logPath, StreamWriter log)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        LogPath = logPath;
        _log = log;
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public string LogPath { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>Warnings and errors the server printed so far.</summary>
    public ServerLog Log => _summary;

    public long RssKiB() => ProcStats.RssKiB(Pid);

    /// <summary>Extra environment for the Gateway (<c>--server-env</c>): runtime knobs tried without touching product code.</summary>
    public static Dictionary<string, string> GatewayEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts <c>Messenger.Gateway.dll --urls http://127.0.0.1:PORT --data DIR</c>, then <paramref name="settings"/>
    /// (<c>--Section:Key=value</c>: what a workload needs configured, e.g. a push webhook target).
    /// </summary>
    public static Task<ServerProcess> StartGatewayAsync(string dataDirectory, string logPath, IReadOnlyList<string>? settings = null)
    {
        if (!File.Exists(BenchPaths.GatewayDll))
        {
            throw new FileNotFoundException(
                $"The server under test is missing. Build it: dotnet build -c {BenchPaths.Configuration} Gateway " +
                "(dotnet run --project Bench builds it, as Bench.csproj references it).", BenchPaths.GatewayDll);
        }
        var port = ServerProbe.FreePort();
        return StartAsync("gateway", [BenchPaths.GatewayDll, "--urls", $"http://127.0.0.1:{port}", "--data", dataDirectory, .. ServerProbe.GatewayArgs, .. settings ?? []],
            port, logPath, GatewayEnvironment);
    }

    /// <summary>Starts this bench binary as the bare relay (hidden verb <c>relay-server</c>), with the Gateway's GC mode.</summary>
    public static Task<ServerProcess> StartRelayAsync(string logPath)
    {
        var port = ServerProbe.FreePort();
        return StartAsync("relay", [BenchPaths.BenchDll, "relay-server", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            port, logPath, new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
    }

    private static async Task<ServerProcess> StartAsync(string name, string[] args, int port, string logPath, Dictionary<string, string> environment)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var info = new ProcessStartInfo("dotnet")
        {
            // The binary's own folder, as when deployed: ASP.NET Core reads appsettings.json (log levels) from the working directory.
            WorkingDirectory = Path.GetDirectoryName(args[0])!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start the {name}");
        ChildProcesses.Track(process);
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var server = new ServerProcess(name, process, new Uri($"http://127.0.0.1:{port}/"), logPath, log);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ServerProbe.WaitHealthyAsync(server.BaseAddress, process, TimeSpan.FromSeconds(60), () => $"see {logPath}");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.WriteLine(line);
            _summary.Add(line);
        }
    }

    /// <summary>SIGTERM (a clean shutdown), then SIGKILL if it takes longer than <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process.HasExited) return;
        if (NativeMethods.Terminate(_process.Id))
        {
            using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
                return;
            }
            catch (OperationCanceledException) { }
        }
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        ChildProcesses.Forget(_process);
        _process.WaitForExit(2000); // lets the output readers finish
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

}
