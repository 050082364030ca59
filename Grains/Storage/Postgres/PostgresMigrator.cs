using Npgsql;

namespace Messenger.Grains.Storage.Postgres;

/// <summary>
/// Applies a set of <see cref="MigrationScripts"/> to a PostgreSQL database in one transaction under an
/// advisory lock, so processes starting at once apply each version once; the versions applied are
/// recorded in a table of the set's own (several sets may share a database).
/// </summary>
internal static class PostgresMigrator
{
    public static async Task ApplyAsync(NpgsqlDataSource dataSource, MigrationScripts scripts, string versionTable, long lockKey,
        string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {versionTable} (version integer NOT NULL PRIMARY KEY, applied_at bigint NOT NULL)", cancellationToken);
        long current;
        await using (var cmd = new NpgsqlCommand($"SELECT COALESCE(MAX(version), 0) FROM {versionTable}", connection))
        {
            current = Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken));
        }
        foreach (var (version, sql) in scripts.After(current, name))
        {
            await ExecuteAsync(connection, sql, cancellationToken);
            await using var record = new NpgsqlCommand($"INSERT INTO {versionTable} (version, applied_at) VALUES ($1, $2)", connection);
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
}
