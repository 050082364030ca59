namespace Messenger.Tests.Support;

/// <summary>
/// Where a gateway process under test keeps its data: a data directory (the signing key, and the
/// SQLite file when SQLite is the backend) and, for PostgreSQL, a fresh <see cref="PostgresDataSet"/>
/// passed as command-line settings. Restarting a gateway on the same instance keeps its data.
/// </summary>
public sealed class GatewayStorage : IAsyncDisposable
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    private readonly PostgresDataSet? _postgres;

    private GatewayStorage(string dataDirectory, PostgresDataSet? postgres)
    {
        DataDirectory = dataDirectory;
        _postgres = postgres;
    }

    public string DataDirectory { get; }

    /// <summary>New, empty storage of the named backend (<see cref="Sqlite"/> or <see cref="Postgres"/>).</summary>
    public static async Task<GatewayStorage> CreateAsync(string backend) => backend switch
    {
        Sqlite => new GatewayStorage(ServerProcess.NewDataDirectory(), null),
        Postgres => new GatewayStorage(ServerProcess.NewDataDirectory(), await PostgresDataSet.CreateAsync("e2e")),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "sqlite or postgres"),
    };

    /// <summary>Starts a gateway on this storage, with any further settings.</summary>
    public Task<ServerProcess> StartGatewayAsync(params string[] args) =>
        ServerProcess.StartAsync(DataDirectory, [.. _postgres?.GatewayArgs() ?? [], .. args]);

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null) await _postgres.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
