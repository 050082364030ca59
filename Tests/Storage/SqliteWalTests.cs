using Messenger.Grains;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Storage;

/// <summary>
/// The SQLite WAL starts over while writes keep coming, at a few MiB: it does not grow to tens of MiB between restarts,
/// as it did when the writer checkpointed only at 64 MiB (and then stalled every commit while it copied a second of
/// writes into the database).
/// </summary>
public sealed class SqliteWalTests : SqliteFileTest
{
    [Fact]
    public async Task AStreamOfWritesFarLargerThanTheRestartSize_LeavesTheWalSmall_AndEveryMessageStored()
    {
        const int batches = 80, perBatch = 40, textLength = 4000; // ~12 MiB of text, three times the restart size
        var text = new string('x', textLength);
        // The pace held at 20 ms (it would spread out, and the restart size grow with it, on a disk slow enough to make
        // rounds take over 2 ms: CheckpointPacing, SqliteWriterTests).
        var settings = SqliteSettings.Default with { MaxCheckpointInterval = SqliteSettings.DefaultCheckpointInterval };
        await using (var storage = SqliteStorage.Open(DatabasePath, settings))
        {
            foreach (var schema in storage.Schemas) await schema.MigrateAsync();
            const string conversationId = "d:u-wal-a:u-wal-b";
            var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
            await storage.Conversations.CreateConversationAsync(new ConversationInfo(conversationId, ConversationKind.Direct, ["u-wal-a", "u-wal-b"], t0));
            for (var b = 0; b < batches; b++)
            {
                var messages = new NewMessage[perBatch];
                for (var i = 0; i < perBatch; i++) messages[i] = new NewMessage("u-wal-a", $"m{b}-{i}", text, t0.AddMilliseconds(b * perBatch + i));
                await storage.Conversations.AppendMessagesAsync(conversationId, (long)b * perBatch, messages);
            }

            var newest = await storage.Conversations.ReadMessagesAsync(conversationId, long.MaxValue, HistoryDirection.Before, 1);
            Assert.Equal(batches * perBatch, Assert.Single(newest).Seq);
            Assert.Equal(text, newest[0].Text);
            // The WAL file keeps the largest size it reached (it is cut back only past 64 MiB): the
            // restart size plus what one commit and the checkpointer's lag add. At 64 MiB it would hold all ~12 MiB.
            Assert.InRange(new FileInfo(DatabasePath + "-wal").Length, 1, 2 * SqliteSettings.WalRestartBytesAt(settings.CheckpointInterval));
        }
    }
}
