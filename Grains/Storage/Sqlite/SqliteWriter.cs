using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// The single writer of a SQLite database, on a thread of its own. Writes queue up while a
/// transaction commits and go into the next one together, so one fsync serves every caller that
/// queued meanwhile (group commit across conversations and users): the slower the flush, the
/// bigger the next batch, and throughput does not fall with flush latency. Writes normally share
/// the transaction with no per-write overhead; if one fails, the batch is rolled back and replayed
/// with a savepoint around each write, so it fails alone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxBatch = 2048;

    private readonly ConcurrentQueue<WriteItem> _queue = new();
    // A short spin before sleeping: under load the next write is usually microseconds away.
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 10);
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, WriterStatement> _statements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteCommand> _queries = new(StringComparer.Ordinal);
    private readonly TimeSpan _simulatedFlushLatency;
    private readonly long _pageSize;
    private long _walRestartBytes;
    private int _cacheKiB;
    private long _nextCacheCheck;
    private readonly SqliteIdKeys _conversationKeys = SqliteIdKeys.Conversations();
    private readonly SqliteIdKeys _userKeys = SqliteIdKeys.Users();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;

    public SqliteWriter(string connectionString, SqliteSettings settings, CheckpointPacing pacing)
    {
        _simulatedFlushLatency = settings.SimulatedFlushLatency;
        Pacing = pacing;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        // While another connection holds the write lock (a second process on the file, or a checkpoint resetting
        // the WAL), SQLite waits for it and retries, up to 30 s, as a SqliteCommand would by itself (its command
        // timeout); the writer's statements step SQLite directly (WriterStatement), so SQLite does the waiting.
        SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_busy_timeout(_connection.Handle, 30_000), _connection.Handle);
        // Small pages for a new database: every commit writes each page it touched whole (to the WAL,
        // and again when checkpointing), and a message touches a few pages at random places, so the
        // bytes written per message follow the page size. (No effect on an existing database.)
        ExecuteScript("PRAGMA page_size=1024;");
        ExecuteScript("PRAGMA journal_mode=WAL;");
        ExecuteScript("PRAGMA synchronous=FULL;");
        ExecuteScript("PRAGMA foreign_keys=ON;");
        // Savepoint journals and sorts in memory rather than in a temp file.
        ExecuteScript("PRAGMA temp_store=MEMORY;");
        // The page cache follows the database's size (WriterPageCache): 2 MiB below 1 GiB, where a commit after a B-tree
        // rebalance that reordered pages walks the whole cache, 32 MiB past it, where none does. Pages not in the cache
        // come from the OS page cache at the cost of one pread.
        _pageSize = Statement("PRAGMA page_size;").ExecuteScalar()!.Value;
        SyncCacheSize();
        // Checkpoints run on their own thread (SqliteCheckpointer), every 20-250 ms while commits come (CheckpointPacing).
        // Under a steady stream of commits it rarely catches the very end of the WAL, and only a checkpoint that does
        // lets the WAL start over, so the writer still checkpoints when the WAL reaches the restart size, which follows
        // the checkpoint thread's pace (SyncWalRestartSize): it usually finds only the checkpointer's last round left to
        // copy, and the WAL starts over small and stays in the OS's cache. The file is cut back to 64 MiB (or the
        // largest restart size, if larger) should it ever grow past that (a reader holding an old snapshot); it is not
        // cut back to the restart size, which a busy writer passes now and then by a batch.
        SyncWalRestartSize();
        ExecuteScript($"PRAGMA journal_size_limit={Math.Max(64L * 1024 * 1024, settings.LargestWalRestartBytes)};");
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-writer" };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="write"/> in the next transaction; completes after the commit.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriter, T> write) => WriteAsync(write, static (w, run) => run(w));

    /// <summary>
    /// Runs <paramref name="write"/> with <paramref name="state"/> in the next transaction; completes after the commit.
    /// For the writes every message makes: a static <paramref name="write"/> given its arguments as a tuple allocates
    /// no closure and no delegate per write.
    /// </summary>
    public Task<T> WriteAsync<TState, T>(TState state, Func<SqliteWriter, TState, T> write)
    {
        if (_stopping) throw new ObjectDisposedException(nameof(SqliteWriter));
        // A caller inside a grain resumes on its activation's scheduler whoever completes the task, so
        // the writer may complete it inline and save a thread-pool hop. Anyone else is resumed on the
        // pool, never on the writer's thread.
        var inline = TaskScheduler.Current != TaskScheduler.Default;
        var item = new WriteItem<TState, T>(state, write, inline);
        _queue.Enqueue(item);
        _wake.Set();
        return item.Completion.Task;
    }

    /// <summary>The statement <paramref name="sql"/> (one statement), prepared on first use and reused by every write after.</summary>
    public WriterStatement Statement(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement)) _statements.Add(sql, statement = new WriterStatement(_connection.Handle!, sql));
        return statement;
    }

    /// <summary>
    /// A command for a query whose rows are read with a data reader (bind with <see cref="Sql.Bind"/>), reused
    /// across writes: for the rare read inside a write that maps rows as the readers do.
    /// </summary>
    public SqliteCommand Query(string sql)
    {
        if (!_queries.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _queries.Add(sql, command);
        }
        return command;
    }

    /// <summary>The integer this database keys <paramref name="conversationId"/>'s rows by, given now if it has none (<c>conversation_keys</c>).</summary>
    public long ConversationKey(string conversationId) => _conversationKeys.Of(this, conversationId);

    /// <summary>The integer this database keys <paramref name="userId"/>'s rows by, given now if it has none (<c>user_keys</c>).</summary>
    public long UserKey(string userId) => _userKeys.Of(this, userId);

    /// <summary>Runs <paramref name="sql"/>, which may hold several statements, once (the schema, settings).</summary>
    public void ExecuteScript(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Execute(string sql) => Statement(sql).ExecuteNonQuery();

    private void RollBack(string sql)
    {
        // Keys given since the transaction (or savepoint) began are taken back with it.
        _conversationKeys.Forget();
        _userKeys.Forget();
        Execute(sql);
    }

    /// <summary>Sets the WAL size at which this connection checkpoints after a commit to the checkpoint thread's pace, when it changed.</summary>
    private void SyncWalRestartSize()
    {
        var bytes = SqliteSettings.WalRestartBytesAt(Pacing.Current);
        if (bytes == _walRestartBytes) return;
        // SQLite answers anything but OK only for a connection that is not open; the size is tuning, and an exception
        // escaping the writer's thread would end the process: a refusal keeps the size in force and asks again.
        if (SQLitePCL.raw.sqlite3_wal_autocheckpoint(_connection.Handle, (int)(bytes / _pageSize)) == SQLitePCL.raw.SQLITE_OK)
        {
            Volatile.Write(ref _walRestartBytes, bytes);
        }
    }

    /// <summary>
    /// Sets the page cache to the size for the database's current size (<see cref="WriterPageCache"/>) when that changed;
    /// looks at start and then at most once a second, between commits.
    /// </summary>
    private void SyncCacheSize()
    {
        var now = Stopwatch.GetTimestamp();
        if (now < _nextCacheCheck) return;
        _nextCacheCheck = now + Stopwatch.Frequency;
        // The size is tuning, and an exception escaping the writer's thread would end the process: an error reading the
        // page count or setting the cache (an I/O error the next commit will report) keeps the size in force and asks
        // again a second later. (SQLite applies cache_size when it prepares the statement: prepared afresh each time.)
        try
        {
            var kib = WriterPageCache.KiBFor(Statement("PRAGMA page_count;").ExecuteScalar()!.Value, _pageSize);
            if (kib == _cacheKiB) return;
            ExecuteScript($"PRAGMA cache_size=-{kib};");
            Volatile.Write(ref _cacheKiB, kib);
        }
        catch (SqliteException)
        {
        }
    }

    /// <summary>The writer's page cache now, in KiB (for tests; 0 until the first look succeeded: e_sqlite3's default).</summary>
    internal int CacheKiB => Volatile.Read(ref _cacheKiB);

    /// <summary>The pace this writer takes its WAL restart size from (its database's checkpoint thread's).</summary>
    internal CheckpointPacing Pacing { get; }

    /// <summary>The WAL size at which this connection now checkpoints after a commit (for tests).</summary>
    internal long WalRestartBytes => Volatile.Read(ref _walRestartBytes);

    private void Run()
    {
        var batch = new List<WriteItem>(64);
        while (true)
        {
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var item)) batch.Add(item);
            if (batch.Count > 0)
            {
                SyncWalRestartSize();
                CommitBatch(batch);
                batch.Clear();
                SyncCacheSize();
                continue;
            }
            if (_stopping)
            {
                _stopped.TrySetResult();
                return;
            }
            _wake.Wait();
            _wake.Reset();
            // Anything enqueued between the last drain and the reset is picked up by the next drain.
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
                RollBack("ROLLBACK;");
                Execute("BEGIN IMMEDIATE;");
                foreach (var item in batch) RunIsolated(item);
            }
            Execute("COMMIT;");
            if (_simulatedFlushLatency > TimeSpan.Zero) Thread.Sleep(_simulatedFlushLatency);
        }
        catch (Exception ex)
        {
            try { RollBack("ROLLBACK;"); } catch (SqliteException) { /* no transaction left to roll back */ }
            foreach (var item in batch) item.Fail(ex);
            return;
        }
        foreach (var item in batch) item.Complete();
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
            RollBack("ROLLBACK TO w;");
            Execute("RELEASE w;");
            item.Error = ex;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _wake.Set();
        await _stopped.Task.ConfigureAwait(false);
        foreach (var statement in _statements.Values) statement.Dispose();
        foreach (var command in _queries.Values) command.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
        _wake.Dispose();
    }

    private abstract class WriteItem
    {
        public Exception? Error { get; set; }
        public abstract void Run(SqliteWriter writer);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class WriteItem<TState, T>(TState state, Func<SqliteWriter, TState, T> write, bool inline) : WriteItem
    {
        private T _result = default!;
        public TaskCompletionSource<T> Completion { get; } =
            new(inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        public override void Run(SqliteWriter writer) => _result = write(writer, state);
        public override void Complete()
        {
            if (Error is null) Completion.TrySetResult(_result);
            else Completion.TrySetException(Error);
        }
        public override void Fail(Exception error) => Completion.TrySetException(error);
    }
}
