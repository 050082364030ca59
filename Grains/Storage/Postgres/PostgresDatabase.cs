using Npgsql;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// One PostgreSQL database of the cluster: a pooled <see cref="NpgsqlDataSource"/> whose statements
/// are prepared automatically once used twice, and the schema migrations. Every write of the stores
/// is one statement or one batch (an implicit transaction), durable when it returns.
/// </summary>
public sealed class PostgresDatabase : IStoreSchema, IAsyncDisposable
{
    private static readonly MigrationScripts Scripts = MigrationScripts.For(typeof(PostgresDatabase));

    /// <summary>Connections per database per process unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 32;

    // Any constant: serialises migrations of one database between processes starting at once.
    private const long MigrationLock = 0x6D657373656E6772; // "messengr"

    /// <summary>Connects to the database at <paramref name="connectionString"/> (nothing is opened until used).</summary>
    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
        // A few connections per silo keep a database busiest: more only add backends competing for its
        // cores (and several silos times Npgsql's default of 100 would pass PostgreSQL's max_connections).
        var keys = connectionString.Replace(" ", "", StringComparison.Ordinal);
        if (!keys.Contains("maxpoolsize", StringComparison.OrdinalIgnoreCase) && !keys.Contains("maximumpoolsize", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }
        // Our statements change no session state, so a connection back in the pool needs no reset
        // (which would otherwise be two more statements, DISCARD-style, on its next use).
        builder.NoResetOnClose = true;
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "messenger";
        Name = $"PostgreSQL database '{builder.Database}' on {builder.Host}:{builder.Port}";
        DataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>Host, port and database, for messages (never the password).</summary>
    public string Name { get; }

    internal NpgsqlDataSource DataSource { get; }

    /// <summary>The newest schema version this build knows.</summary>
    public static int LatestSchemaVersion => Scripts.Latest;

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken = default) =>
        PostgresMigrator.ApplyAsync(DataSource, Scripts, "schema_migrations", MigrationLock, Name, cancellationToken);

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = DataSource.CreateCommand("SELECT 1");
        await cmd.ExecuteScalarAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
