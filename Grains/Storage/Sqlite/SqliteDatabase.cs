using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// One SQLite file: WAL, <c>synchronous=FULL</c>, one batching writer (<see cref="SqliteWriter"/>),
/// checkpoints on a thread of their own (<see cref="SqliteCheckpointer"/>) and pooled read connections. The stores of this folder share it; each touches only its own tables.
/// </summary>
public sealed class SqliteDatabase : IStoreSchema, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _path;

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="settings">Checkpoint pacing and the benchmarks' simulated flush latency; <see cref="SqliteSettings.Default"/> if null.</param>
    public SqliteDatabase(string path, SqliteSettings? settings = null)
    {
        settings ??= SqliteSettings.Default;
        _path = path;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var pacing = settings.CheckpointPacing();
        Writer = new SqliteWriter(_connectionString, settings, pacing);
        Checkpointer = new SqliteCheckpointer(_connectionString, pacing);
    }

    internal SqliteWriter Writer { get; }

    /// <summary>The checkpoint thread.</summary>
    internal SqliteCheckpointer Checkpointer { get; }

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken = default) =>
        Writer.WriteAsync(w => { SqliteMigrations.Apply(w, _path); return 0; });

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT 1";
        await cmd.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>A pooled read connection; dispose it to return it.</summary>
    internal async Task<SqliteConnection> OpenReaderAsync()
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Checkpointer.Dispose();
        return Writer.DisposeAsync();
    }
}
