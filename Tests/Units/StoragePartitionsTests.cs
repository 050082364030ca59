using Messenger.Grains.Hosting;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Units;

/// <summary>How ids map to partitions and partitions to databases, and the settings that say so.</summary>
public sealed class StoragePartitionsTests
{
    [Fact]
    public void Of_IsAFixedFunctionOfTheId()
    {
        // Rows are placed by these values: a change here would strand every stored row. They are
        // XxHash32 (seed 0) of the UTF-8 bytes, modulo 256, computed by an independent implementation.
        Assert.Equal(73, StoragePartitions.Of("u-alice"));
        Assert.Equal(208, StoragePartitions.Of("d:u-a:u-b"));
        Assert.Equal(Expected(new string('x', 2000)), StoragePartitions.Of(new string('x', 2000))); // longer than the stack buffer
        Assert.Equal(Expected("é-ü-漢"), StoragePartitions.Of("é-ü-漢"));
    }

    [Fact]
    public void Of_SpreadsIdsOverEveryPartition()
    {
        var counts = new int[StoragePartitions.Count];
        for (var i = 0; i < 100_000; i++) counts[StoragePartitions.Of("u-" + Guid.NewGuid().ToString("N"))]++;

        // 390 per partition on average; a hash that ignored part of the id would leave some far off.
        Assert.All(counts, c => Assert.InRange(c, 250, 550));
    }

    [Theory]
    [InlineData("0-255", 256)]
    [InlineData("0-63, 128-191", 128)]
    [InlineData("7", 1)]
    [InlineData("0-1,5,9-10", 5)]
    public void ParseRanges_ReadsRangesAndSingles(string ranges, int count)
    {
        var partitions = StoragePartitions.ParseRanges(ranges);

        Assert.Equal(count, partitions.Length);
        Assert.Equal(partitions.Order(), partitions);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0-256")]
    [InlineData("10-5")]
    [InlineData("a-b")]
    [InlineData("-1")]
    [InlineData("0-10,5")]
    public void ParseRanges_RefusesWhatIsNotAValidSet(string ranges)
    {
        Assert.Throws<FormatException>(() => StoragePartitions.ParseRanges(ranges));
    }

    [Fact]
    public void PostgresOptions_OneDatabase_HoldsEveryPartitionWithoutSayingSo()
    {
        var options = Postgres(("Host=a", null));

        options.Validate();

        Assert.All(options.Postgres.DatabaseOfPartition(), d => Assert.Equal(0, d));
    }

    [Fact]
    public void PostgresOptions_TwoDatabases_MapTheirRanges()
    {
        var options = Postgres(("Host=a", "0-99,200-255"), ("Host=b", "100-199"));

        options.Validate();

        var owner = options.Postgres.DatabaseOfPartition();
        Assert.Equal(0, owner[0]);
        Assert.Equal(1, owner[100]);
        Assert.Equal(1, owner[199]);
        Assert.Equal(0, owner[255]);
    }

    [Theory]
    [InlineData("Storage:Postgres:Databases must name at least one database")]
    [InlineData("Storage:Postgres:Databases:1:ConnectionString must be set", "Host=a", "0-127", "", "128-255")]
    [InlineData("Storage:Postgres:Databases:1:Partitions: partition 100 is already held by database 0", "Host=a", "0-127", "Host=b", "100-255")]
    [InlineData("Storage:Postgres:Databases: partition 128 is held by no database", "Host=a", "0-127", "Host=b", "129-255")]
    [InlineData("Storage:Postgres:Databases:1:Partitions: no partitions given", "Host=a", "0-127", "Host=b", null)]
    [InlineData("Storage:Postgres:Databases:0:Partitions: \"0-300\" is not a list of partitions", "Host=a", "0-300")]
    public void PostgresOptions_Invalid_NameTheSetting(string message, params string?[] databases)
    {
        var pairs = databases.Chunk(2).Select(p => (p[0]!, p[1])).ToArray();
        var options = Postgres(pairs);

        var ex = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void StorageOptions_UnknownProvider_NamesBoth()
    {
        var ex = Assert.Throws<InvalidOperationException>(new StorageOptions { Provider = "Mongo" }.Validate);

        Assert.Equal("Storage:Provider must be 'Sqlite' or 'Postgres', is 'Mongo'.", ex.Message);
    }

    private static StorageOptions Postgres(params (string ConnectionString, string? Partitions)[] databases) => new()
    {
        Provider = StorageOptions.PostgresProvider,
        Postgres = new PostgresStorageOptions
        {
            Databases = databases.Select(d => new PostgresDatabaseOptions { ConnectionString = d.ConnectionString, Partitions = d.Partitions }).ToList(),
        },
    };

    private static int Expected(string id) =>
        (int)(System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(id)) % StoragePartitions.Count);
}
