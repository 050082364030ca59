using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Messenger.Bench.Results;
using Messenger.Client;
using Messenger.Testing;

namespace Messenger.Bench.Hosting;

/// <summary>What every workload gets: the options, the progress log, the accounts, and servers to test.</summary>
public sealed class BenchContext(BenchOptions options, TextWriter log) : IAsyncDisposable
{
    private AccountSeed? _seed;
    private LocalCluster? _cluster;

    public BenchOptions Options { get; } = options;
    public TextWriter Log { get; } = log;

    /// <summary>At least <paramref name="count"/> accounts (one seed serves every workload of the run).</summary>
    public async Task<AccountSeed> AccountsAsync(int count)
    {
        if (_seed is { } seed && seed.Accounts.Count >= count) return seed;
        _seed = Options.Url is { } url ? await AccountSeed.ForRemoteServerAsync(url, count, Log)
            : Options.Cluster is { } shape ? await AccountSeed.ForRemoteServerAsync((await ClusterAsync(shape)).Gateways[0], count, Log)
            : await AccountSeed.ForLocalServerAsync(count, Options.ReuseAccounts, Log);
        return _seed;
    }

    // One cluster serves the whole run (its accounts live in its databases).
    private async Task<LocalCluster> ClusterAsync((int Silos, int Gateways) shape)
    {
        if (_cluster is not null) return _cluster;
        var directory = Path.Combine(BenchPaths.RunDirectory, "cluster");
        Log.WriteLine($"  cluster: starting {shape.Silos} silo(s) and {shape.Gateways} gateway(s) over PostgreSQL (scripts/cluster.sh, logs in {directory})");
        _cluster = await LocalCluster.StartAsync(shape.Silos, shape.Gateways, directory, "", "");
        _cluster.KeepLogs = true;
        Log.WriteLine($"  cluster: gateways {string.Join(", ", _cluster.Gateways)}; silo and gateway pids {string.Join(", ", _cluster.ServerPids())}");
        return _cluster;
    }

    /// <summary>
    /// A fresh Gateway process on a fresh data directory holding the seeded accounts, or the <c>--url</c> server;
    /// <paramref name="settings"/> go on the started server's command line (<c>--Section:Key=value</c>).
    /// </summary>
    public async Task<GatewayTarget> StartGatewayAsync(string workload, int accounts, IReadOnlyList<string>? settings = null)
    {
        var seed = await AccountsAsync(accounts);
        if (Options.Url is { } url) return new GatewayTarget([url], null, Options.Pid is { } pid ? [pid] : null, seed.Accounts, null, Options.Keep);
        if (Options.Cluster is { } shape)
        {
            var cluster = await ClusterAsync(shape);
            return new GatewayTarget(cluster.Gateways, null, cluster.ServerPids(), seed.Accounts, null, keep: true);
        }
        var directory = Path.Combine(BenchPaths.RunDirectory, workload);
        var data = seed.NewDataDirectory(Path.Combine(directory, "data"));
        var server = await ServerProcess.StartGatewayAsync(data, Path.Combine(directory, "server.log"), settings);
        Log.WriteLine($"  server: gateway pid {server.Pid} at {server.BaseAddress} (log {server.LogPath})");
        return new GatewayTarget([server.BaseAddress], server, [server.Pid], seed.Accounts, data, Options.Keep);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

/// <summary>
/// The server under test for one workload, with its accounts: one gateway, or the gateways of a
/// cluster (accounts spread over them by index). <see cref="Pids"/> are the processes whose CPU and
/// memory count as the server's (a cluster: its silos and gateways; its database counts as "other").
/// </summary>
public sealed class GatewayTarget(IReadOnlyList<Uri> baseAddresses, ServerProcess? server, IReadOnlyList<int>? pids,
    IReadOnlyList<BenchAccount> accounts, string? dataDirectory, bool keep)
    : IAsyncDisposable
{
    private IReadOnlyList<Uri> _baseAddresses = baseAddresses;

    public Uri BaseAddress => _baseAddresses[0];
    public ServerProcess? Server { get; private set; } = server;
    public IReadOnlyList<int>? Pids { get; private set; } = pids;
    public IReadOnlyList<BenchAccount> Accounts { get; } = accounts;

    public Uri SocketUri(BenchAccount account) =>
        new($"ws://{_baseAddresses[account.Index % _baseAddresses.Count].Authority}/v1/ws?access_token={Uri.EscapeDataString(account.Token)}");

    /// <summary>Opens (idempotently) the direct conversation of two accounts over REST; returns its id.</summary>
    public async Task<string> OpenDirectAsync(BenchAccount from, BenchAccount to)
    {
        using var http = new MessengerHttpClient(BaseAddress, from.Token);
        return (await http.OpenDirectAsync(to.UserId)).ConversationId;
    }

    /// <summary>
    /// Creates a group owned by <paramref name="owner"/> with <paramref name="members"/> over REST
    /// (<c>POST /v1/conversations/groups</c>); returns its id. The server looks each member up before
    /// creating it, so a large group takes a while.
    /// </summary>
    public async Task<string> CreateGroupAsync(BenchAccount owner, string title, IEnumerable<BenchAccount> members)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.Token);
        var body = new JsonObject
        {
            ["title"] = title,
            ["userIds"] = new JsonArray(members.Select(m => (JsonNode?)JsonValue.Create(m.UserId)).ToArray()),
        };
        using var response = await http.PostAsync("v1/conversations/groups", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"creating the group failed: {(int)response.StatusCode} {text}");
        }
        return JsonNode.Parse(text)?["conversation"]?["conversationId"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"creating the group answered no conversationId: {text}");
    }

    /// <summary>Stops the server cleanly and starts it again on the same data directory (a cold start).</summary>
    public async Task RestartAsync(string logPath)
    {
        if (Server is null || dataDirectory is null) throw new InvalidOperationException("only a server the bench started can be restarted");
        await Server.DisposeAsync();
        Server = await ServerProcess.StartGatewayAsync(dataDirectory, logPath);
        _baseAddresses = [Server.BaseAddress];
        Pids = [Server.Pid];
    }

    /// <summary>Adds what the server logged (warnings, errors) to the result.</summary>
    public void Describe(WorkloadResult result)
    {
        if (Server is null) return;
        result.Figures["serverLog"] = Server.Log.ToJson();
        result.Figures["serverLogPath"] = Server.LogPath;
        foreach (var line in Server.Log.Describe().Take(8)) result.Notes.Add($"server log: {line}");
        if (Server.HasExited) result.Notes.Add("the server process EXITED during the workload");
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (!keep && dataDirectory is not null)
        {
            try { Directory.Delete(dataDirectory, recursive: true); }
            catch (IOException) { }
        }
    }
}
