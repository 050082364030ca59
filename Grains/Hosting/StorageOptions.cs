using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Messenger.Grains.Hosting;

/// <summary>Where and how durable data is kept. Section <c>Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Storage";

    /// <summary>The SQLite backend (standalone): one file under <see cref="DataDirectory"/>.</summary>
    public const string SqliteProvider = "Sqlite";

    /// <summary>The PostgreSQL backend (cluster mode): the databases of <see cref="Postgres"/>.</summary>
    public const string PostgresProvider = "Postgres";

    /// <summary>The storage backend: <c>Sqlite</c> (default) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = SqliteProvider;

    /// <summary>Directory of the SQLite database (and, in standalone mode, the token signing key).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The PostgreSQL databases and which partitions each holds (<c>Storage:Postgres</c>).</summary>
    public PostgresStorageOptions Postgres { get; set; } = new();

    /// <summary>
    /// SQLite only: the shortest wait between copies of the WAL into the database file while commits come (20 ms by
    /// default); a copy that took long is followed later, up to 250 ms (or this, if longer): see
    /// <see cref="Storage.Sqlite.SqliteSettings"/>. A longer interval writes fewer bytes to the disk per message at every
    /// load (a page written again within an interval is copied once) at the cost of a longer tail where CPU is the limit.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = SqliteSettings.DefaultCheckpointInterval;

    /// <summary>
    /// For benchmarks only: every commit of the store takes this much longer, as on a disk whose flush
    /// is that slow. Zero (the default) in any real deployment. SQLite only.
    /// </summary>
    public TimeSpan SimulatedFlushLatency { get; set; } = TimeSpan.Zero;

    /// <summary>The <c>Storage</c> section of <paramref name="configuration"/> (defaults where it says nothing).</summary>
    public static StorageOptions From(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<StorageOptions>() ?? new StorageOptions();

    /// <summary>True when <see cref="Provider"/> names the PostgreSQL backend.</summary>
    public bool IsPostgres => string.Equals(Provider, PostgresProvider, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (IsPostgres)
        {
            Postgres.Validate($"{SectionName}:{nameof(Postgres)}");
        }
        else if (!string.Equals(Provider, SqliteProvider, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{SectionName}:{nameof(Provider)} must be '{SqliteProvider}' or '{PostgresProvider}', is '{Provider}'.");
        }
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(DataDirectory)} must be set.");
        }
        if (SimulatedFlushLatency < TimeSpan.Zero || SimulatedFlushLatency > TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(SimulatedFlushLatency)} must be 00:00:00 to 00:00:01, is {SimulatedFlushLatency}.");
        }
        if (CheckpointInterval < TimeSpan.FromMilliseconds(5) || CheckpointInterval > TimeSpan.FromSeconds(10))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(CheckpointInterval)} must be 00:00:00.005 to 00:00:10, is {CheckpointInterval}.");
        }
    }

    /// <summary>The SQLite databases' settings these options make.</summary>
    public SqliteSettings Sqlite => new(CheckpointInterval, SimulatedFlushLatency);
}

/// <summary>
/// The PostgreSQL databases of the cluster. Every conversation and every user belongs to one of
/// <see cref="StoragePartitions.Count"/> logical partitions (a hash of its id); each database holds
/// the partitions its <see cref="PostgresDatabaseOptions.Partitions"/> names, and together they must
/// hold each partition exactly once.
/// </summary>
public sealed class PostgresStorageOptions
{
    /// <summary>The databases (<c>Storage:Postgres:Databases:0:ConnectionString</c>, …).</summary>
    public List<PostgresDatabaseOptions> Databases { get; set; } = [];

    /// <summary>Checks the databases and that the partitions are covered exactly once; throws naming the setting.</summary>
    public void Validate(string path)
    {
        if (Databases.Count == 0)
        {
            throw new InvalidOperationException($"{path}:{nameof(Databases)} must name at least one database (e.g. {path}:{nameof(Databases)}:0:ConnectionString).");
        }
        var owner = new int[StoragePartitions.Count];
        Array.Fill(owner, -1);
        for (var i = 0; i < Databases.Count; i++)
        {
            var database = Databases[i];
            var at = $"{path}:{nameof(Databases)}:{i}";
            if (string.IsNullOrWhiteSpace(database.ConnectionString))
            {
                throw new InvalidOperationException($"{at}:{nameof(PostgresDatabaseOptions.ConnectionString)} must be set.");
            }
            int[] partitions;
            try
            {
                partitions = PartitionsOf(database);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"{at}:{nameof(PostgresDatabaseOptions.Partitions)}: {ex.Message}");
            }
            foreach (var partition in partitions)
            {
                if (owner[partition] >= 0)
                {
                    throw new InvalidOperationException(
                        $"{at}:{nameof(PostgresDatabaseOptions.Partitions)}: partition {partition} is already held by database {owner[partition]}.");
                }
                owner[partition] = i;
            }
        }
        var missing = Array.IndexOf(owner, -1);
        if (missing >= 0)
        {
            throw new InvalidOperationException(
                $"{path}:{nameof(Databases)}: partition {missing} is held by no database (the databases must hold 0-{StoragePartitions.Count - 1} between them).");
        }
    }

    /// <summary>For each partition, the index of the database that holds it (the settings are valid).</summary>
    public int[] DatabaseOfPartition()
    {
        var owner = new int[StoragePartitions.Count];
        for (var i = 0; i < Databases.Count; i++)
        {
            foreach (var partition in PartitionsOf(Databases[i])) owner[partition] = i;
        }
        return owner;
    }

    // A lone database may leave its partitions out: it holds them all.
    private int[] PartitionsOf(PostgresDatabaseOptions database) => database.Partitions is null && Databases.Count == 1
        ? StoragePartitions.All()
        : StoragePartitions.ParseRanges(database.Partitions ?? "");
}

/// <summary>One PostgreSQL database of the cluster.</summary>
public sealed class PostgresDatabaseOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Port=…;Database=…;Username=…;Password=…</c>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The logical partitions this database holds, as ranges: <c>0-127</c>, <c>0-63,128-191</c>.
    /// May be left out when there is only one database (it then holds them all).
    /// </summary>
    public string? Partitions { get; set; }
}
