using Messenger.Grains;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>
/// A database written by an older build is carried forward by the migrations with nothing lost: here, one at schema
/// version 10, whose messages and user logs were keyed by ids as text, moved to integer keys (migration 11) and then
/// read, retried and written to through the stores as the product does.
/// </summary>
public sealed class SqliteMigrationTests : SqliteFileTest
{
    private const string Conversation = "d:u-mig-a:u-mig-b";
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    [Fact]
    public async Task ADatabaseKeyedByTextIds_MovesToIntegerKeys_WithEveryMessageAndPointerIntact()
    {
        await CreateVersion10DatabaseAsync();

        await using var storage = SqliteStorage.Open(DatabasePath);
        foreach (var schema in storage.Schemas) await schema.MigrateAsync();

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
        Assert.Equal(3, (await storage.UserLogs.LoadUserAsync("u-mig-a")).LastUserSeq);
        Assert.Equal(2, await storage.UserLogs.FindUserSeqAsync("u-mig-b", Conversation, 2));

        // The unique index came along: a retried send of an old message is answered with the original.
        var appended = await storage.Conversations.AppendMessagesAsync(Conversation, 3,
            [new NewMessage("u-mig-a", "c1", "one", T0.AddSeconds(9)), new NewMessage("u-mig-a", "c4", "four", T0.AddSeconds(10))]);
        Assert.True(appended[0].Duplicate);
        Assert.Equal(1, appended[0].Message.Seq);
        Assert.False(appended[1].Duplicate);
        Assert.Equal(4, appended[1].Message.Seq);

        // The user logs go on from where they were, and the primary key still guards them.
        await storage.UserLogs.AppendUpdatesAsync("u-mig-a", [new UpdatePointer(4, UpdateKind.Message, Conversation, 4, FromSelf: true)], []);
        await Assert.ThrowsAsync<StoreConflictException>(() =>
            storage.UserLogs.AppendUpdatesAsync("u-mig-a", [new UpdatePointer(4, UpdateKind.Message, Conversation, 4, FromSelf: true)], []));
        Assert.Equal([1L, 2L, 3L, 4L], (await storage.UserLogs.ReadUpdatesAsync("u-mig-a", 0, 10)).Select(p => p.UserSeq));
    }

    /// <summary>A database as schema version 10 left it: the migrations up to it, and rows in their shape.</summary>
    private async Task CreateVersion10DatabaseAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=false");
        await connection.OpenAsync();
        await ExecuteAsync(connection, "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)");
        foreach (var (version, sql) in MigrationScripts.For(typeof(SqliteStorage)).Scripts.Where(s => s.Version <= 10))
        {
            await ExecuteAsync(connection, sql);
            await ExecuteAsync(connection, $"INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, 0)");
        }
        var t0 = T0.ToUnixTimeMilliseconds();
        await ExecuteAsync(connection, $"""
            INSERT INTO conversations (conversation_id, kind, created_at) VALUES ('{Conversation}', 1, {t0});
            INSERT INTO conversation_members (conversation_id, user_id) VALUES ('{Conversation}', 'u-mig-a'), ('{Conversation}', 'u-mig-b');
            INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, text, sent_at) VALUES
                ('{Conversation}', 1, 'u-mig-a', 'c1', 'one', {t0 + 1000}),
                ('{Conversation}', 2, 'u-mig-a', 'c2', 'two', {t0 + 2000}),
                ('{Conversation}', 3, 'u-mig-b', 'c3', 'three', {t0 + 3000});
            INSERT INTO user_updates (user_id, user_seq, kind, conversation_id, seq, from_self) VALUES
                ('u-mig-a', 1, 1, '{Conversation}', 1, 1), ('u-mig-a', 2, 1, '{Conversation}', 2, 1), ('u-mig-a', 3, 1, '{Conversation}', 3, 0),
                ('u-mig-b', 1, 1, '{Conversation}', 1, 0), ('u-mig-b', 2, 1, '{Conversation}', 2, 0), ('u-mig-b', 3, 1, '{Conversation}', 3, 1);
            """);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }
}
