using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Postgres;
using Messenger.Tests.Support;

namespace Messenger.Tests.Storage;

/// <summary>
/// The storage contract against the PostgreSQL backend on a real server, with the partitions split
/// over two databases (<see cref="PostgresDataSet"/>): conversations, users and usernames land in
/// both, so a statement that assumed one database for everything would find half its rows missing.
/// </summary>
public sealed class PostgresStoreTests : StoreContract
{
    private PostgresDataSet? _data;

    protected override MessengerStorage OpenStorage()
    {
        _data ??= PostgresDataSet.CreateAsync("contract").GetAwaiter().GetResult();
        return PostgresStorage.Open(_data.Options);
    }

    protected override async Task RecordSchemaVersionAsync(int version)
    {
        for (var i = 0; i < _data!.Databases.Count; i++)
        {
            await _data.ExecuteAsync(i, $"INSERT INTO {{schema}}.schema_migrations (version, applied_at) VALUES ({version}, 0)");
        }
    }

    protected override async Task DeleteDataAsync()
    {
        if (_data is not null) await _data.DisposeAsync();
    }

    [Fact]
    public async Task Migrate_SeveralProcessesAtOnce_ApplyEachVersionOnce()
    {
        await using var data = await PostgresDataSet.CreateAsync("contract");
        var silos = Enumerable.Range(0, 4).Select(_ => PostgresStorage.Open(data.Options)).ToList();
        try
        {
            await Task.WhenAll(silos.SelectMany(s => s.Schemas).Select(s => s.MigrateAsync()));

            for (var i = 0; i < data.Databases.Count; i++)
            {
                Assert.Equal(PostgresDatabase.LatestSchemaVersion, await data.ScalarAsync<long>(i, "SELECT COUNT(*) FROM {schema}.schema_migrations"));
            }
            Assert.True(await silos[3].Accounts.CreateAccountAsync(Account("alice")));
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Partitions_RowsLandInTheDatabaseHoldingTheirPartition()
    {
        var users = Enumerable.Range(0, 40).Select(i => Account($"user{i}")).ToList();
        foreach (var user in users)
        {
            await Accounts.CreateAccountAsync(user);
            await UserLogs.SetLastSeenAsync(user.Profile.UserId, T0);
        }

        foreach (var user in users)
        {
            var id = user.Profile.UserId;
            var home = StoragePartitions.Of(id) < 128 ? 0 : 1;
            Assert.Equal(1, await _data!.ScalarAsync<long>(home, $"SELECT COUNT(*) FROM {{schema}}.user_state WHERE user_id = '{id}'"));
            Assert.Equal(0, await _data.ScalarAsync<long>(1 - home, $"SELECT COUNT(*) FROM {{schema}}.user_state WHERE user_id = '{id}'"));
            var byName = StoragePartitions.Of(user.Profile.Username) < 128 ? 0 : 1;
            Assert.Equal(1, await _data.ScalarAsync<long>(byName, $"SELECT COUNT(*) FROM {{schema}}.accounts WHERE user_id = '{id}'"));
        }
    }
}
