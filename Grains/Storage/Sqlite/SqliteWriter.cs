using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// The single writer of a SQLite database. Writes queue up while a transaction commits and go
/// into the next one together, so one fsync serves many callers (group commit across
/// conversations). Writes normally share the transaction with no per-write overhead; if one fails,
/// the batch is rolled back and replayed with a savepoint around each write, so it fails alone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;

    private readonly Channel<WriteItem> _queue = Channel.CreateUnbounded<WriteItem>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public SqliteWriter(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=FULL;");
        Execute("PRAGMA foreign_keys=ON;");
        // Savepoint journals and sorts in memory rather than in a temp file; a larger page cache.
        Execute("PRAGMA temp_store=MEMORY;");
        Execute("PRAGMA cache_size=-65536;");
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Runs <paramref name="write"/> in the next transaction; completes after the commit.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriter, T> write)
    {
        var item = new WriteItem<T>(write);
        if (!_queue.Writer.TryWrite(item))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter));
        }
        return item.Completion.Task;
    }

    /// <summary>A prepared command for <paramref name="sql"/>, reused across writes; bind with <see cref="Sql.Bind"/>.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }
        return command;
    }

    private void Execute(string sql) => Command(sql).ExecuteNonQuery();

    private async Task RunAsync()
    {
        var batch = new List<WriteItem>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            CommitBatch(batch);
            batch.Clear();
        }
    }

    private void CommitBatch(List<WriteItem> batch)
    {
        try
        {
            Execute("BEGIN IMMEDIATE;");
            try
            {
                foreach (var item in batch) item.Run(this);
            }
            catch (Exception)
            {
                // One write failed: undo the batch and replay it with each write isolated.
                Execute("ROLLBACK;");
                Execute("BEGIN IMMEDIATE;");
                foreach (var item in batch) RunIsolated(item);
            }
            Execute("COMMIT;");
        }
        catch (Exception ex)
        {
            try { Execute("ROLLBACK;"); } catch (SqliteException) { /* no transaction left to roll back */ }
            foreach (var item in batch)
            {
                item.Fail(ex);
            }
            return;
        }
        foreach (var item in batch)
        {
            item.Complete();
        }
    }

    private void RunIsolated(WriteItem item)
    {
        Execute("SAVEPOINT w;");
        try
        {
            item.Run(this);
            Execute("RELEASE w;");
        }
        catch (Exception ex)
        {
            Execute("ROLLBACK TO w; RELEASE w;");
            item.Error = ex;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private abstract class WriteItem
    {
        public Exception? Error { get; set; }
        public abstract void Run(SqliteWriter writer);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class WriteItem<T>(Func<SqliteWriter, T> write) : WriteItem
    {
        private T _result = default!;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override void Run(SqliteWriter writer) => _result = write(writer);
        public override void Complete()
        {
            if (Error is null) Completion.TrySetResult(_result);
            else Completion.TrySetException(Error);
        }
        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
