using Messenger.Grains;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>
/// A database written by an older build is carried forward by the migrations with nothing lost: here, one at schema
/// version 10, whose messages and user logs were keyed by ids as text, moved to integer keys (migration 11) and then
/// read, retried and written to through the stores as the product does.
/// </summary>
public sealed class SqliteMigrationTests : SqliteFileTest
{
    private const string Conversation = "d:u-mig-a:u-mig-b";
    private const string Group = "g-mig";
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    [Fact]
    public async Task ADatabaseKeyedByTextIds_MovesToIntegerKeys_WithEveryMessageAndPointerIntact()
    {
        await CreateVersion10DatabaseAsync(DatabasePath, conversations: true, userLogs: true);

        await using var storage = SqliteStorage.Open(DatabasePath);
        foreach (var schema in storage.Schemas) await schema.MigrateAsync();
        await AssertCarriedAsync(storage);

        // The unique index came along: a retried send of an old message is answered with the original.
        var appended = await storage.Conversations.AppendMessagesAsync(Conversation, 3,
            [new NewMessage("u-mig-a", "c1", "one", T0.AddSeconds(9)), new NewMessage("u-mig-a", "c4", "four", T0.AddSeconds(10))]);
        Assert.True(appended[0].Duplicate);
        Assert.Equal(1, appended[0].Message.Seq);
        Assert.False(appended[1].Duplicate);
        Assert.Equal(4, appended[1].Message.Seq);

        // The user logs go on from where they were, and the primary key still guards them.
        await storage.UserLogs.AppendUpdatesAsync("u-mig-a", [new UpdatePointer(6, UpdateKind.Message, Conversation, 4, FromSelf: true)], []);
        await Assert.ThrowsAsync<StoreConflictException>(() =>
            storage.UserLogs.AppendUpdatesAsync("u-mig-a", [new UpdatePointer(6, UpdateKind.Message, Conversation, 4, FromSelf: true)], []));
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], (await storage.UserLogs.ReadUpdatesAsync("u-mig-a", 0, 10)).Select(p => p.UserSeq));
    }

    /// <summary>User logs kept in a file of their own (as a partitioned store may keep them) migrate there on their own.</summary>
    [Fact]
    public async Task AUserLogFileOfItsOwn_MovesToIntegerKeysOfItsOwn()
    {
        var userLogPath = Path.Combine(Directory, "user-logs.db");
        await CreateVersion10DatabaseAsync(DatabasePath, conversations: true, userLogs: false);
        await CreateVersion10DatabaseAsync(userLogPath, conversations: false, userLogs: true);

        await using var storage = SqliteStorage.OpenSplit(DatabasePath, userLogPath);
        foreach (var schema in storage.Schemas) await schema.MigrateAsync();
        await AssertCarriedAsync(storage);
    }

    private static async Task AssertCarriedAsync(MessengerStorage storage)
    {
        var history = await storage.Conversations.ReadMessagesAsync(Conversation, long.MaxValue, HistoryDirection.Before, 10);
        Assert.Equal([1L, 2L, 3L], history.Select(m => m.Seq));
        Assert.Equal(["u-mig-a", "u-mig-a", "u-mig-b"], history.Select(m => m.SenderId));
        Assert.Equal(["c1", "c2", "c3"], history.Select(m => m.ClientMsgId));
        Assert.Equal(["one", "two", "three"], history.Select(m => m.Text));
        Assert.Equal(T0.AddSeconds(3), history[2].SentAt);
        Assert.Equal(3, (await storage.Conversations.GetConversationAsync(Conversation))!.LastSeq);
        Assert.Equal([2L, 3L], (await storage.Conversations.ReadMessagesByKeyAsync([new(Conversation, 2), new(Conversation, 3)])).Select(m => m.Seq));

        var pointers = await storage.UserLogs.ReadUpdatesAsync("u-mig-b", 0, 10);
        Assert.Equal([1L, 2L, 3L], pointers.Select(p => p.UserSeq));
        Assert.All(pointers, p => Assert.Equal(Conversation, p.ConversationId));
        Assert.Equal([false, false, true], pointers.Select(p => p.FromSelf));
        Assert.Equal(2, await storage.UserLogs.FindUserSeqAsync("u-mig-b", Conversation, 2));

        // A second conversation keeps its own messages (a group: its first entry is an event), and a pointer its
        // receipt counts.
        var group = await storage.Conversations.ReadMessagesAsync(Group, 0, HistoryDirection.After, 10);
        Assert.Equal([("u-mig-a", 1L), ("u-mig-b", 2L)], group.Select(m => (m.SenderId, m.Seq)));
        var created = group[0].Event!;
        Assert.Equal((ConversationEventType.Created, "Team", (MemberRole?)null), (created.Type, created.Title, created.Role));
        Assert.Equal(["u-mig-a", "u-mig-b"], created.UserIds);
        Assert.Null(group[1].Event);
        var later = await storage.UserLogs.ReadUpdatesAsync("u-mig-a", 3, 10);
        Assert.Equal([(4L, Group, 1L), (5L, Conversation, 2L)], later.Select(p => (p.UserSeq, p.ConversationId, p.Seq)));
        Assert.Equal([new MessageReceipt(2, 1, 1, 1)], later[1].Receipts!);
        Assert.Null(later[0].Receipts);
        Assert.Equal(5, (await storage.UserLogs.LoadUserAsync("u-mig-a")).LastUserSeq);
    }

    /// <summary>A database as schema version 10 left it: the migrations up to it, and rows in their shape.</summary>
    private async Task CreateVersion10DatabaseAsync(string path, bool conversations, bool userLogs)
    {
        System.IO.Directory.CreateDirectory(Directory);
        await SqliteFiles.ExecuteAsync(path, "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
        foreach (var (version, sql) in MigrationScripts.For(typeof(SqliteStorage)).Scripts.Where(s => s.Version <= 10))
        {
            await SqliteFiles.ExecuteAsync(path, sql);
            await SqliteFiles.ExecuteAsync(path, $"INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, 0)");
        }
        var t0 = T0.ToUnixTimeMilliseconds();
        var created = EventColumn.Encode(new ConversationEvent(ConversationEventType.Created, ["u-mig-a", "u-mig-b"], "Team"));
        var receipts = ReceiptsColumn.Encode([new MessageReceipt(2, 1, 1, 1)]);
        if (conversations)
        {
            await SqliteFiles.ExecuteAsync(path, $"""
                INSERT INTO conversations (conversation_id, kind, created_at) VALUES ('{Conversation}', 1, {t0}), ('{Group}', 2, {t0});
                INSERT INTO conversation_members (conversation_id, user_id) VALUES
                    ('{Conversation}', 'u-mig-a'), ('{Conversation}', 'u-mig-b'), ('{Group}', 'u-mig-a'), ('{Group}', 'u-mig-b');
                INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, text, sent_at, event) VALUES
                    ('{Group}', 1, 'u-mig-a', 'g1', '', {t0 + 500}, '{created}'),
                    ('{Conversation}', 1, 'u-mig-a', 'c1', 'one', {t0 + 1000}, NULL),
                    ('{Conversation}', 2, 'u-mig-a', 'c2', 'two', {t0 + 2000}, NULL),
                    ('{Conversation}', 3, 'u-mig-b', 'c3', 'three', {t0 + 3000}, NULL),
                    ('{Group}', 2, 'u-mig-b', 'g2', 'hi all', {t0 + 4000}, NULL);
                """);
        }
        if (userLogs)
        {
            await SqliteFiles.ExecuteAsync(path, $"""
                INSERT INTO user_updates (user_id, user_seq, kind, conversation_id, seq, from_self, receipts) VALUES
                    ('u-mig-a', 1, 1, '{Conversation}', 1, 1, NULL), ('u-mig-a', 2, 1, '{Conversation}', 2, 1, NULL),
                    ('u-mig-a', 3, 1, '{Conversation}', 3, 0, NULL), ('u-mig-a', 4, 1, '{Group}', 1, 1, NULL),
                    ('u-mig-a', 5, 3, '{Conversation}', 2, 0, '{receipts}'),
                    ('u-mig-b', 1, 1, '{Conversation}', 1, 0, NULL), ('u-mig-b', 2, 1, '{Conversation}', 2, 0, NULL),
                    ('u-mig-b', 3, 1, '{Conversation}', 3, 1, NULL);
                """);
        }
    }
}
