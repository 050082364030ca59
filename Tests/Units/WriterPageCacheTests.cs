using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Units;

/// <summary>The SQLite writer's page cache size for a database of a given size.</summary>
public sealed class WriterPageCacheTests
{
    [Theory]
    [InlineData(1024, 1_048_577)]
    [InlineData(4096, 262_145)]
    [InlineData(65536, 16_385)]
    public void TheLockBytePage_HoldsTheByteAt1GiB(long pageSize, long page)
    {
        Assert.Equal(page, WriterPageCache.LockBytePage(pageSize));
        Assert.InRange(1L << 30, (page - 1) * pageSize, page * pageSize - 1);
    }

    [Theory]
    [InlineData(0, WriterPageCache.SmallKiB)]
    [InlineData(1, WriterPageCache.SmallKiB)]
    [InlineData(1_048_576, WriterPageCache.SmallKiB)] // one page short of the lock byte's: a rebalance's temporary number is past the end
    [InlineData(1_048_577, WriterPageCache.LargeKiB)]
    [InlineData(50_000_000, WriterPageCache.LargeKiB)]
    public void BelowTheLockBytePage_TheCacheIsSQLitesDefault_FromItOnLarger(long pageCount, int kib)
    {
        Assert.Equal(kib, WriterPageCache.KiBFor(pageCount, pageSize: 1024));
    }
}
