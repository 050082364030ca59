using Messenger.Grains;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>The SQLite writer's group commit when one write of a batch fails.</summary>
public sealed class SqliteWriterTests : SqliteFileTest
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private SqliteDatabase _database = null!;

    public override async Task InitializeAsync()
    {
        _database = new SqliteDatabase(DatabasePath);
        await _database.MigrateAsync();
    }

    public override async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>
    /// A write that fails rolls its batch back, and the others are replayed each under a savepoint of its own. Integer
    /// keys given to new ids inside what was rolled back (the batch's transaction, or the failed write's savepoint) are
    /// taken back with it: the writer must give them again, not reuse numbers that no longer name anything (the rows would
    /// then be stored under a conversation or a sender nobody can find, or under the next id to get that number).
    /// </summary>
    [Fact]
    public async Task AFailedWrite_FailsAlone_AndTheOthersInItsBatchAreStoredUnderKeysThatStillExist()
    {
        var conversations = new SqliteConversationStore(_database);
        var userLogs = new SqliteUserLogStore(_database);
        const string first = "d:u-new-a:u-new-b", second = "d:u-new-a:u-new-c", named = "d:u-new-a:u-new-d";
        await userLogs.AppendUpdatesAsync("u-old", [new UpdatePointer(1, UpdateKind.Message, "d:u-old:u-x", 1, FromSelf: true)], []);

        // Hold the writer inside a batch, so the next writes queue up and commit together.
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holding = _database.Writer.WriteAsync(_ =>
        {
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        });
        Task<IReadOnlyList<AppendResult>> appendFirst, appendSecond;
        Task conflicting, pointer;
        try
        {
            Assert.True(inside.Wait(TimeSpan.FromSeconds(30)));
            appendFirst = conversations.AppendMessagesAsync(first, 0, [new NewMessage("u-new-a", "c1", "first words", T0)]);
            // Fails on the user's log after giving a key to a conversation never seen before.
            conflicting = userLogs.AppendUpdatesAsync("u-old", [new UpdatePointer(1, UpdateKind.Message, named, 1, FromSelf: true)], []);
            appendSecond = conversations.AppendMessagesAsync(second, 0, [new NewMessage("u-new-a", "c2", "other words", T0)]);
            pointer = userLogs.AppendUpdatesAsync("u-new-a", [new UpdatePointer(1, UpdateKind.Message, named, 1, FromSelf: true)], []);
        }
        finally
        {
            release.Set();
        }
        await holding;

        await Assert.ThrowsAsync<StoreConflictException>(() => conflicting);
        Assert.Equal(1, Assert.Single(await appendFirst).Message.Seq);
        Assert.Equal(1, Assert.Single(await appendSecond).Message.Seq);
        await pointer;

        var stored = Assert.Single(await conversations.ReadMessagesAsync(first, long.MaxValue, HistoryDirection.Before, 10));
        Assert.Equal(("u-new-a", "first words"), (stored.SenderId, stored.Text));
        Assert.Equal("other words", Assert.Single(await conversations.ReadMessagesAsync(second, long.MaxValue, HistoryDirection.Before, 10)).Text);
        Assert.Equal(named, Assert.Single(await userLogs.ReadUpdatesAsync("u-new-a", 0, 10)).ConversationId);
        // The writer goes on using the keys: the next message lands under the same conversation and sender.
        await conversations.AppendMessagesAsync(first, 1, [new NewMessage("u-new-a", "c3", "second", T0.AddSeconds(1))]);
        Assert.Equal([1L, 2L], (await conversations.ReadMessagesAsync(first, 0, HistoryDirection.After, 10)).Select(m => m.Seq));
    }

    /// <summary>A database's writer takes its restart size from the pace its own checkpoint thread keeps, not another one.</summary>
    [Fact]
    public async Task ADatabasesWriter_AndItsCheckpointThread_ShareOnePace()
    {
        Assert.Same(_database.Checkpointer.Pacing, _database.Writer.Pacing);
        await using var other = new SqliteDatabase(DatabasePath + ".other");
        Assert.NotSame(_database.Writer.Pacing, other.Writer.Pacing);
    }

    /// <summary>
    /// The writer's page cache follows the database's size: SQLite's default 2 MiB for a database under 1 GiB, where a
    /// larger cache would be walked whole after a B-tree rebalance, 32 MiB for one past it. The large database is a real
    /// file of 1,100,000 pages by its header (sparse: the pages nothing points at were never written), and it takes writes
    /// that grow it past that.
    /// </summary>
    [Fact]
    public async Task ThePageCache_IsSmallBelow1GiB_AndLargePastIt()
    {
        Assert.Equal(WriterPageCache.SmallKiB, _database.Writer.CacheKiB);
        Assert.Equal(-WriterPageCache.SmallKiB, await _database.Writer.WriteAsync(CacheSize));

        const int pages = 1_100_000;
        var connection = await DatabaseOfDeclaredSizeAsync(DatabasePath + ".large", pages);

        await using var writer = new SqliteWriter(connection, SqliteSettings.Default, SqliteSettings.Default.CheckpointPacing());
        Assert.Equal(pages, await writer.WriteAsync(PageCount));
        Assert.Equal(WriterPageCache.LargeKiB, writer.CacheKiB);
        Assert.Equal(-WriterPageCache.LargeKiB, await writer.WriteAsync(CacheSize));
        // Enough rows to split the table's leaves many times over: new pages numbered past the lock-byte page, rebalances.
        for (var i = 0; i < 40; i++)
        {
            await writer.WriteAsync(i, InsertRows);
        }
        Assert.Equal(2_001, await writer.WriteAsync(w => w.Statement("SELECT COUNT(*) FROM t;").ExecuteScalar()!.Value));
        Assert.True(await writer.WriteAsync(PageCount) > pages + 400);
    }

    /// <summary>
    /// A database that grows past 1 GiB while its writer runs gets the large cache within a second or so of the commit
    /// that took it past (the writer looks at most once a second, between commits).
    /// </summary>
    [Fact]
    public async Task ADatabaseGrowingPast1GiB_GetsTheLargeCache()
    {
        var lockBytePage = WriterPageCache.LockBytePage(1024);
        var connection = await DatabaseOfDeclaredSizeAsync(DatabasePath + ".growing", (int)lockBytePage - 100);
        await using var writer = new SqliteWriter(connection, SqliteSettings.Default, SqliteSettings.Default.CheckpointPacing());
        Assert.Equal(WriterPageCache.SmallKiB, writer.CacheKiB);
        Assert.Equal(-WriterPageCache.SmallKiB, await writer.WriteAsync(CacheSize));

        for (var i = 0; await writer.WriteAsync(PageCount) < lockBytePage; i++) await writer.WriteAsync(i, InsertRows);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (writer.CacheKiB != WriterPageCache.LargeKiB && DateTime.UtcNow < deadline) await writer.WriteAsync(0, InsertRows);
        Assert.Equal(WriterPageCache.LargeKiB, writer.CacheKiB);
        Assert.Equal(-WriterPageCache.LargeKiB, await writer.WriteAsync(CacheSize));
    }

    private static long PageCount(SqliteWriter w) => w.Statement("PRAGMA page_count;").ExecuteScalar()!.Value;

    // The table-valued form runs the pragma when stepped; a prepared "PRAGMA cache_size" keeps the value it was prepared with.
    private static long CacheSize(SqliteWriter w) => w.Statement("SELECT cache_size FROM pragma_cache_size();").ExecuteScalar()!.Value;

    private static int InsertRows(SqliteWriter w, int batch)
    {
        var insert = w.Statement("INSERT INTO t (y) VALUES ($y)");
        for (var row = 0; row < 50; row++)
        {
            insert.Bind("$y", $"batch {batch} row {row} " + new string('x', 200));
            insert.ExecuteNonQuery();
        }
        return 0;
    }

    /// <summary>
    /// A real SQLite file (1 KiB pages, a table t with one row) whose header declares <paramref name="pages"/> pages: sparse,
    /// the pages nothing points at never written. Returns its connection string (no pooling).
    /// </summary>
    private static async Task<string> DatabaseOfDeclaredSizeAsync(string path, int pages)
    {
        var connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        await using (var create = new Microsoft.Data.Sqlite.SqliteConnection(connection))
        {
            await create.OpenAsync();
            await using var cmd = create.CreateCommand();
            cmd.CommandText = "PRAGMA page_size=1024; CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT); INSERT INTO t (y) VALUES ('before');";
            await cmd.ExecuteNonQueryAsync();
        }
        await using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = 28; // the header's database size in pages, big-endian (valid: the change counter matches)
        var size = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(size, pages);
        file.Write(size);
        file.SetLength((long)pages * 1024);
        return connection;
    }

    /// <summary>
    /// The WAL size at which the writer checkpoints follows the checkpoint thread's pace: 4 MiB while rounds come every
    /// 20 ms, room for the longer interval's writes when slow rounds spread them out, and back when they are quick again.
    /// </summary>
    [Fact]
    public async Task TheWalsRestartSize_FollowsTheCheckpointThreadsPace()
    {
        var settings = SqliteSettings.Default;
        var pacing = settings.CheckpointPacing();
        await using var writer = new SqliteWriter(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = DatabasePath + ".paced" }.ToString(), settings, pacing);
        static long RestartPages(SqliteWriter w) => w.Statement("PRAGMA wal_autocheckpoint;").ExecuteScalar()!.Value;

        Assert.Equal(4L * 1024 * 1024, writer.WalRestartBytes);
        Assert.Equal(4 * 1024, await writer.WriteAsync(RestartPages)); // 1 KiB pages

        for (var i = 0; i < 3; i++) pacing.After(TimeSpan.FromMilliseconds(15), walMoved: true); // rounds now 150 ms apart: 19.2 MiB at 128 MiB/s
        Assert.Equal(20 * 1024, await writer.WriteAsync(RestartPages));
        Assert.Equal(20L * 1024 * 1024, writer.WalRestartBytes);

        for (var i = 0; i < 3; i++) pacing.After(TimeSpan.FromMilliseconds(40), walMoved: true); // 250 ms at most
        Assert.Equal(32 * 1024, await writer.WriteAsync(RestartPages));

        pacing.After(TimeSpan.FromMilliseconds(80), walMoved: false); // an idle round leaves the pace as it was
        Assert.Equal(32 * 1024, await writer.WriteAsync(RestartPages));

        for (var i = 0; i < 2; i++) pacing.After(TimeSpan.FromMilliseconds(1), walMoved: true); // two quick rounds of three
        Assert.Equal(4 * 1024, await writer.WriteAsync(RestartPages));
    }
}
