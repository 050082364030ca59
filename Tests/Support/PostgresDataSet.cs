using Messenger.Grains.Hosting;

namespace Messenger.Tests.Support;

/// <summary>
/// A fresh, empty data set on the test run's <see cref="PostgresServer"/>: a schema of its own in
/// two databases, the partitions split between them (0-127 and 128-255), so that whatever runs on
/// it has its conversations, users and usernames spread over two databases. Disposing drops it.
/// </summary>
public sealed class PostgresDataSet : IAsyncDisposable
{
    private readonly string[] _databases;

    private PostgresDataSet(PostgresServer server, string[] databases, string schema)
    {
        Server = server;
        _databases = databases;
        Schema = schema;
        Options = new PostgresStorageOptions
        {
            Databases =
            [
                new PostgresDatabaseOptions { ConnectionString = server.ConnectionString(databases[0], schema), Partitions = "0-127" },
                new PostgresDatabaseOptions { ConnectionString = server.ConnectionString(databases[1], schema), Partitions = "128-255" },
            ],
        };
    }

    public PostgresServer Server { get; }

    /// <summary>The schema, in both databases.</summary>
    public string Schema { get; }

    /// <summary>The backend's settings for this data set.</summary>
    public PostgresStorageOptions Options { get; }

    /// <summary>The two database names; partitions 0-127 are in the first.</summary>
    public IReadOnlyList<string> Databases => _databases;

    /// <summary>Creates a data set in databases <c>{prefix}_a</c> and <c>{prefix}_b</c> (made if missing).</summary>
    public static async Task<PostgresDataSet> CreateAsync(string prefix)
    {
        var server = await PostgresServer.GetAsync();
        string[] databases = [prefix + "_a", prefix + "_b"];
        var schema = "s" + Guid.NewGuid().ToString("N");
        foreach (var database in databases)
        {
            await server.EnsureDatabaseAsync(database);
            await server.ExecuteAsync(database, $"CREATE SCHEMA {schema}");
        }
        return new PostgresDataSet(server, databases, schema);
    }

    /// <summary>The settings that store in this data set, as configuration keys and values.</summary>
    public IReadOnlyDictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?> { [$"{StorageOptions.SectionName}:Provider"] = StorageOptions.PostgresProvider };
        for (var i = 0; i < Options.Databases.Count; i++)
        {
            settings[$"Storage:Postgres:Databases:{i}:ConnectionString"] = Options.Databases[i].ConnectionString;
            settings[$"Storage:Postgres:Databases:{i}:Partitions"] = Options.Databases[i].Partitions;
        }
        return settings;
    }

    /// <summary>The same settings as a gateway's command line.</summary>
    public string[] GatewayArgs() => [.. Settings().Select(s => $"--{s.Key}={s.Value}")];

    /// <summary>Runs one statement in the <paramref name="database"/>-th database; <c>{schema}</c> stands for the schema.</summary>
    public Task ExecuteAsync(int database, string sql) => Server.ExecuteAsync(_databases[database], sql.Replace("{schema}", Schema));

    /// <summary>The first value one query returns in the <paramref name="database"/>-th database; <c>{schema}</c> stands for the schema.</summary>
    public Task<T> ScalarAsync<T>(int database, string sql) => Server.ScalarAsync<T>(_databases[database], sql.Replace("{schema}", Schema));

    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases) await Server.ExecuteAsync(database, $"DROP SCHEMA {Schema} CASCADE");
    }
}
