using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>One real gateway process shared by the tests of a collection, storing in one backend.</summary>
public abstract class ServerFixture(string backend) : IAsyncLifetime
{
    private GatewayStorage _storage = null!;

    public ServerProcess Server { get; private set; } = null!;
    public Uri Url => Server.BaseAddress;

    public async Task InitializeAsync()
    {
        _storage = await GatewayStorage.CreateAsync(backend);
        Server = await _storage.StartGatewayAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await _storage.DisposeAsync();
    }
}

/// <summary>One real gateway process (SQLite) started with <paramref name="settings"/>, shared by a collection.</summary>
public abstract class SettingsServerFixture(params string[] settings) : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;
    public Uri Url => Server.BaseAddress;
    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(null, settings);
    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The gateway as it runs by default: SQLite in its data directory.</summary>
public sealed class SqliteServerFixture() : ServerFixture(GatewayStorage.Sqlite);

/// <summary>The gateway storing in PostgreSQL, its partitions over two databases.</summary>
public sealed class PostgresServerFixture() : ServerFixture(GatewayStorage.Postgres);

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<SqliteServerFixture>
{
    public const string Name = "gateway process";
}

[CollectionDefinition(Name)]
public sealed class PostgresServerCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "gateway process over PostgreSQL";
}
