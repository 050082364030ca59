using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>The storage contract against <see cref="SqliteMessageStore"/>: one database file per test in a temp directory.</summary>
public sealed class SqliteMessageStoreTests : MessageStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "messenger-store-tests", Guid.NewGuid().ToString("N"));

    protected override IMessageStore OpenStore() => new SqliteMessageStore(Path.Combine(_directory, "messenger.db"));

    protected override Task DeleteDataAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}
