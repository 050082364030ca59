using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Messenger.Testing;

/// <summary>
/// A real cluster on loopback, brought up by the same script a person uses (<c>scripts/cluster.sh</c>):
/// a throwaway PostgreSQL instance, silos and gateways in client mode, each a process of its own that
/// a test can kill -9 and start again. Uses the binaries of the build the tests run from.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private const int PortsPerCluster = 50;
    private readonly string _directory;
    private readonly int _portBase;
    private readonly int _silos;
    private readonly int _gateways;
    private readonly string _siloArgs;
    private readonly string _gatewayArgs;

    private LocalCluster(string directory, int portBase, int silos, int gateways, string siloArgs, string gatewayArgs)
    {
        _directory = directory;
        _portBase = portBase;
        _silos = silos;
        _gateways = gateways;
        _siloArgs = siloArgs;
        _gatewayArgs = string.Join(' ', ServerProbe.GatewayArgs.Append(gatewayArgs));
    }

    /// <summary>
    /// Brings up <paramref name="silos"/> silos and <paramref name="gateways"/> gateways and waits until
    /// every gateway answers; <paramref name="siloArgs"/> and <paramref name="gatewayArgs"/> (settings such as
    /// <c>--Messenger:DeviceLease=00:00:10</c>, space-separated) go to every silo and every gateway.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int silos, int gateways, string siloArgs = "", string gatewayArgs = "")
    {
        var directory = Path.Combine(Path.GetTempPath(), "messenger-clusters", Guid.NewGuid().ToString("N"));
        return await StartAsync(silos, gateways, directory, siloArgs, gatewayArgs);
    }

    /// <summary>As above, with everything the cluster writes (PIDs, logs, PostgreSQL's data) under <paramref name="directory"/>.</summary>
    public static async Task<LocalCluster> StartAsync(int silos, int gateways, string directory, string siloArgs, string gatewayArgs)
    {
        Directory.CreateDirectory(directory);
        var cluster = new LocalCluster(directory, FreePortBlock(), silos, gateways, siloArgs, gatewayArgs);
        try
        {
            await cluster.RunAsync("up");
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Every gateway's address.</summary>
    public IReadOnlyList<Uri> Gateways => [.. Enumerable.Range(1, _gateways).Select(Gateway)];

    /// <summary>The process ids of the silos and gateways (not PostgreSQL's), as running now.</summary>
    public IReadOnlyList<int> ServerPids() =>
    [
        .. Directory.GetFiles(_directory, "silo-*.pid").Concat(Directory.GetFiles(_directory, "gateway-*.pid"))
            .Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture)),
    ];

    /// <summary>Silo <paramref name="n"/>'s HTTP endpoint (<c>/healthz</c>, <c>/metrics</c>), from 1.</summary>
    public Uri Silo(int n) => new($"http://127.0.0.1:{_portBase + 30 + n}/");

    /// <summary>Every silo's HTTP endpoint.</summary>
    public IReadOnlyList<Uri> Silos => [.. Enumerable.Range(1, _silos).Select(Silo)];

    /// <summary>Gateway <paramref name="n"/> (from 1).</summary>
    public Uri Gateway(int n) => new($"http://127.0.0.1:{_portBase + 40 + n}/");

    /// <summary>kill -9 one process: <c>silo</c>, <c>gateway</c> or <c>postgres</c> (an immediate stop, as a crash).</summary>
    public Task KillAsync(string role, int n) => RunAsync("kill", role, n.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// SIGTERM to one process (<c>silo</c> or <c>gateway</c>), as a rolling upgrade or a scale-down asks it to
    /// stop; returns once it exited by itself. Fails if it had to be killed after <c>STOP_TIMEOUT</c> (30 s).
    /// </summary>
    public Task StopAsync(string role, int n) => RunAsync("stop", role, n.ToString(CultureInfo.InvariantCulture));

    /// <summary>Npgsql connection string of the database holding the membership table.</summary>
    public string MembershipConnectionString => $"Host=127.0.0.1;Port={_portBase};Username=postgres;Database=postgres";

    /// <summary>The port silo <paramref name="n"/> talks to other silos on (its key in the membership table).</summary>
    public int SiloPort(int n) => _portBase + 10 + n;

    /// <summary>Starts one process again (a silo or gateway: until it is ready).</summary>
    public Task StartAsync(string role, int n) => RunAsync("start", role, n.ToString(CultureInfo.InvariantCulture));

    /// <summary>The last lines of every process's log, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var log in Directory.GetFiles(_directory, "*.log"))
        {
            var lines = File.ReadAllLines(log);
            text.AppendLine($"== {Path.GetFileName(log)}").AppendJoin('\n', lines.TakeLast(30)).AppendLine();
        }
        return text.ToString();
    }

    /// <summary>When set, stopping the cluster keeps its processes' logs (and deletes only its data).</summary>
    public bool KeepLogs { get; set; }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("down");
        }
        finally
        {
            foreach (var path in KeepLogs ? Directory.GetDirectories(_directory) : [_directory])
            {
                try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    private async Task RunAsync(params string[] args)
    {
        var (code, output) = await Repository.RunScriptAsync("cluster.sh", [.. args, _directory], new Dictionary<string, string>
        {
            ["PORT_BASE"] = _portBase.ToString(CultureInfo.InvariantCulture),
            ["SILOS"] = _silos.ToString(CultureInfo.InvariantCulture),
            ["GATEWAYS"] = _gateways.ToString(CultureInfo.InvariantCulture),
            ["CONFIG"] = Repository.Configuration,
            ["BUILD"] = "0", // dotnet test built the silo and the gateway already
            ["EXTRA_SILO_ARGS"] = _siloArgs,
            ["EXTRA_GATEWAY_ARGS"] = _gatewayArgs,
        });
        if (code != 0) throw new InvalidOperationException($"scripts/cluster.sh {string.Join(' ', args)} failed ({code}):\n{output}\n{Logs()}");
    }

    /// <summary>A base port with the next <see cref="PortsPerCluster"/> ports free, in 20000-29999.</summary>
    private static int FreePortBlock()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var candidate = 20_000 + Random.Shared.Next(0, 10_000 / PortsPerCluster) * PortsPerCluster;
            if (Enumerable.Range(candidate, PortsPerCluster).All(IsFree)) return candidate;
        }
        throw new InvalidOperationException("no block of free ports found in 20000-29999");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
