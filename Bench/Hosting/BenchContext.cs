using Messenger.Bench.Results;
using Messenger.Client;

namespace Messenger.Bench.Hosting;

/// <summary>What every workload gets: the options, the progress log, the accounts, and servers to test.</summary>
public sealed class BenchContext(BenchOptions options, TextWriter log)
{
    private AccountSeed? _seed;

    public BenchOptions Options { get; } = options;
    public TextWriter Log { get; } = log;

    /// <summary>At least <paramref name="count"/> accounts (one seed serves every workload of the run).</summary>
    public async Task<AccountSeed> AccountsAsync(int count)
    {
        if (_seed is { } seed && seed.Accounts.Count >= count) return seed;
        _seed = Options.Url is { } url
            ? await AccountSeed.ForRemoteServerAsync(url, count, Log)
            : await AccountSeed.ForLocalServerAsync(count, Options.ReuseAccounts, Log);
        return _seed;
    }

    /// <summary>A fresh Gateway process on a fresh data directory holding the seeded accounts, or the <c>--url</c> server.</summary>
    public async Task<GatewayTarget> StartGatewayAsync(string workload, int accounts)
    {
        var seed = await AccountsAsync(accounts);
        if (Options.Url is { } url) return new GatewayTarget(url, null, Options.Pid, seed.Accounts, null, Options.Keep);
        var directory = Path.Combine(BenchPaths.RunDirectory, workload);
        var data = seed.NewDataDirectory(Path.Combine(directory, "data"));
        var server = await ServerProcess.StartGatewayAsync(data, Path.Combine(directory, "server.log"));
        Log.WriteLine($"  server: gateway pid {server.Pid} at {server.BaseAddress} (log {server.LogPath})");
        return new GatewayTarget(server.BaseAddress, server, server.Pid, seed.Accounts, data, Options.Keep);
    }
}

/// <summary>The server under test for one workload, with its accounts.</summary>
public sealed class GatewayTarget(Uri baseAddress, ServerProcess? server, int? pid, IReadOnlyList<BenchAccount> accounts, string? dataDirectory, bool keep)
    : IAsyncDisposable
{
    public Uri BaseAddress { get; private set; } = baseAddress;
    public ServerProcess? Server { get; private set; } = server;
    public int? Pid { get; private set; } = pid;
    public IReadOnlyList<BenchAccount> Accounts { get; } = accounts;

    public Uri SocketUri(BenchAccount account) =>
        new($"ws://{BaseAddress.Authority}/v1/ws?access_token={Uri.EscapeDataString(account.Token)}");

    /// <summary>Opens (idempotently) the direct conversation of two accounts over REST; returns its id.</summary>
    public async Task<string> OpenDirectAsync(BenchAccount from, BenchAccount to)
    {
        using var http = new MessengerHttpClient(BaseAddress, from.Token);
        return (await http.OpenDirectAsync(to.UserId)).ConversationId;
    }

    /// <summary>Stops the server cleanly and starts it again on the same data directory (a cold start).</summary>
    public async Task RestartAsync(string logPath)
    {
        if (Server is null || dataDirectory is null) throw new InvalidOperationException("only a server the bench started can be restarted");
        await Server.DisposeAsync();
        Server = await ServerProcess.StartGatewayAsync(dataDirectory, logPath);
        BaseAddress = Server.BaseAddress;
        Pid = Server.Pid;
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
