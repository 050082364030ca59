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
    /// A write that fails rolls its batch back, and the others are replayed on their own. Integer keys given to new ids
    /// inside the rolled-back transaction are taken back with it: the replay must give them again, not reuse numbers
    /// that no longer name anything (the messages would then be stored under a conversation and a sender nobody can find).
    /// </summary>
    [Fact]
    public async Task AFailedWrite_FailsAlone_AndTheOthersInItsBatchAreStoredUnderKeysThatStillExist()
    {
        var conversations = new SqliteConversationStore(_database);
        var userLogs = new SqliteUserLogStore(_database);
        const string conversationId = "d:u-new-a:u-new-b";
        await userLogs.AppendUpdatesAsync("u-old", [new UpdatePointer(1, UpdateKind.Message, "d:u-old:u-x", 1, FromSelf: true)], []);

        // Hold the writer inside a batch, so the next writes queue up and commit together.
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holding = _database.Writer.WriteAsync(_ =>
        {
            inside.Set();
            release.Wait();
            return 0;
        });
        inside.Wait();
        var append = conversations.AppendMessagesAsync(conversationId, 0, [new NewMessage("u-new-a", "c1", "first words", T0)]);
        var pointer = userLogs.AppendUpdatesAsync("u-new-a", [new UpdatePointer(1, UpdateKind.Message, conversationId, 1, FromSelf: true)], []);
        var conflicting = userLogs.AppendUpdatesAsync("u-old", [new UpdatePointer(1, UpdateKind.Message, "d:u-old:u-x", 2, FromSelf: true)], []);
        release.Set();
        await holding;

        await Assert.ThrowsAsync<StoreConflictException>(() => conflicting);
        Assert.Equal(1, Assert.Single(await append).Message.Seq);
        await pointer;

        var stored = Assert.Single(await conversations.ReadMessagesAsync(conversationId, long.MaxValue, HistoryDirection.Before, 10));
        Assert.Equal(("u-new-a", "first words"), (stored.SenderId, stored.Text));
        var update = Assert.Single(await userLogs.ReadUpdatesAsync("u-new-a", 0, 10));
        Assert.Equal(conversationId, update.ConversationId);
        // The writer goes on using the keys: the next message lands under the same conversation and sender.
        await conversations.AppendMessagesAsync(conversationId, 1, [new NewMessage("u-new-a", "c2", "second", T0.AddSeconds(1))]);
        Assert.Equal([1L, 2L], (await conversations.ReadMessagesAsync(conversationId, 0, HistoryDirection.After, 10)).Select(m => m.Seq));
    }
}
