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

    // Any constant: serialises migrations of one database between processes starting at once.
    private const long MigrationLock = 0x6D657373656E6772; // "messengr"

    /// <summary>Connects to the database at <paramref name="connectionString"/> (nothing is opened until used).</summary>
    public PostgresDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
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
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer NOT NULL PRIMARY KEY, applied_at bigint NOT NULL)", cancellationToken);
        long current;
        await using (var cmd = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", connection))
        {
            current = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken));
        }
        foreach (var (version, sql) in Scripts.After(current, Name))
        {
            await ExecuteAsync(connection, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", connection);
            record.Parameters.With(version).With(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
