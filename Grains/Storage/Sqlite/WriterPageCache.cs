namespace Messenger.Grains.Storage.Sqlite;

/// <summary>
/// How large the writer's page cache is for a database of a given size. SQLite ends every commit by dropping from the
/// cache the pages numbered past the database's end, and walks the cache's whole hash table to do it when the highest
/// number the cache has held lies that many numbers or more past the end. A B-tree rebalance that reorders its new pages
/// swaps their numbers through a temporary one, the lock-byte page's (the page holding the byte at 1 GiB: 1,048,577 with
/// 1 KiB pages), which the cache then keeps as its highest. In a database smaller than that, the commit after such a
/// rebalance walks the whole cache, so the walk's cost grows with the cache (with 64 MiB it was 41% of the writer's
/// thread at 1,000 msgs/s; with 16 MiB, 17% at 5,000). In a database past it the number is inside the database, nothing
/// is walked, and a larger cache only saves the reads of pages it would have evicted. So: 2 MiB (e_sqlite3's compiled-in
/// default) below 1 GiB, 32 MiB from there on.
/// </summary>
internal static class WriterPageCache
{
    /// <summary>The cache below 1 GiB, in KiB: e_sqlite3's compiled-in default.</summary>
    public const int SmallKiB = 2000;

    /// <summary>The cache from 1 GiB on, in KiB.</summary>
    public const int LargeKiB = 32 * 1024;

    /// <summary>The number of the page that holds the byte at 1 GiB (SQLite's lock byte), for pages of <paramref name="pageSize"/> bytes.</summary>
    public static long LockBytePage(long pageSize) => (1L << 30) / pageSize + 1;

    /// <summary>The cache, in KiB, for a database of <paramref name="pageCount"/> pages of <paramref name="pageSize"/> bytes.</summary>
    public static int KiBFor(long pageCount, long pageSize) => pageCount >= LockBytePage(pageSize) ? LargeKiB : SmallKiB;
}
