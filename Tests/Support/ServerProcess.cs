using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Messenger.Testing;

namespace Messenger.Tests.Support;

/// <summary>
/// The real Gateway (standalone: in-process silo + SQLite) started as a separate process on a free
/// loopback port, so end-to-end tests go through real sockets and can kill -9 it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly bool _ownsDataDirectory;

    private ServerProcess(Process process, Uri baseAddress, string dataDirectory, bool ownsDataDirectory)
    {
        _ownsDataDirectory = ownsDataDirectory;
        _process = process;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
    }

    public Uri BaseAddress { get; }
    public string DataDirectory { get; }
    public int ProcessId => _process.Id;

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Starts a server on <paramref name="dataDirectory"/> (a new temp dir if null) and waits until it is healthy.</summary>
    public static async Task<ServerProcess> StartAsync(string? dataDirectory = null, params string[] extraArgs)
    {
        // The free port is found by binding and letting go: until the server binds it, another process (a test's
        // outbound socket) may take it. The server then exits at once saying so; another port is tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(dataDirectory, extraArgs);
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<ServerProcess> StartOnceAsync(string? dataDirectory, string[] extraArgs)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= NewDataDirectory();
        var port = ServerProbe.FreePort();
        var gateway = GatewayAssemblyPath();
        var info = new ProcessStartInfo("dotnet")
        {
            // The gateway's own folder, so its appsettings.json (log levels) applies as in production.
            WorkingDirectory = Path.GetDirectoryName(gateway)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(gateway);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.ArgumentList.Add("--data");
        info.ArgumentList.Add(dataDirectory);
        foreach (var arg in ServerProbe.GatewayArgs.Concat(extraArgs)) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the gateway");
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"), dataDirectory, owns);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ServerProbe.WaitHealthyAsync(server.BaseAddress, process, TimeSpan.FromSeconds(60), () => "output:\n" + server.Output);
        return server;
    }

    public static string NewDataDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "messenger-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// SIGTERM, as an orchestrator or Ctrl+C asks a process to stop, then waits for it to exit by itself;
    /// returns its exit code. Fails if it is still running after <paramref name="within"/>.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan within)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not exit within {within} of SIGTERM\noutput:\n{Output}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        if (_ownsDataDirectory)
        {
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static string GatewayAssemblyPath()
    {
        var path = Path.Combine(Repository.Root, "Gateway", "bin", Repository.Configuration, "net10.0", "Messenger.Gateway.dll");
        if (!File.Exists(path)) throw new FileNotFoundException("build the Gateway first (dotnet test builds it)", path);
        return path;
    }
}
