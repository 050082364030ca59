namespace Messenger.Grains.Storage.Postgres;

/// <summary>The databases of the cluster and which one holds each logical partition.</summary>
internal sealed class PostgresShards(IReadOnlyList<PostgresDatabase> databases, int[] databaseOfPartition)
{
    /// <summary>Every database, each once.</summary>
    public IReadOnlyList<PostgresDatabase> All => databases;

    /// <summary>The database holding the rows of this conversation, user or username.</summary>
    public PostgresDatabase For(string id) => databases[databaseOfPartition[StoragePartitions.Of(id)]];
}
