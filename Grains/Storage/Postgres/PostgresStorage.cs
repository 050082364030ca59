using Messenger.Grains.Hosting;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>The PostgreSQL backend: the three stores over the configured databases and their partitions.</summary>
public static class PostgresStorage
{
    /// <summary>Opens the databases named by <paramref name="options"/> (already validated).</summary>
    public static MessengerStorage Open(PostgresStorageOptions options)
    {
        var databases = options.Databases.Select(d => new PostgresDatabase(d.ConnectionString)).ToList();
        var databaseOfPartition = options.DatabaseOfPartition();
        var shards = new PostgresShards(databases, databaseOfPartition);
        var home = options.Databases[databaseOfPartition[0]];
        return new MessengerStorage(
            new PostgresAccountStore(shards), new PostgresConversationStore(shards), new PostgresUserLogStore(shards), new PostgresPushOutboxStore(shards),
            databases, databases, OrleansTables: new AdoNetTables(AdoNetTables.Npgsql, home.ConnectionString));
    }
}
