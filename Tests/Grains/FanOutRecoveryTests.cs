using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Grains;

/// <summary>A crash between commit and fan-out loses nothing: the conversation re-drives fan-out from its durable mark.</summary>
public abstract class FanOutRecoveryTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : FanOutRecoveryTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : FanOutRecoveryTests(cluster);

    [Fact]
    public async Task CommittedButNotFannedOut_IsDeliveredToEveryMember_WhenTheConversationResumes()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversationId = ConversationIds.Direct(alice.UserId, bob.UserId);
        var members = new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal).ToArray();

        // What a crash leaves behind: the log has three messages, no member's update log has them,
        // and the grain has never been activated since. Written straight to the store.
        await using (var storage = cluster.OpenStorage())
        {
            var store = storage.Conversations;
            await store.CreateConversationAsync(new ConversationInfo(conversationId, ConversationKind.Direct, members, DateTimeOffset.UtcNow));
            await store.AppendMessagesAsync(conversationId, 0,
            [
                new NewMessage(alice.UserId, "a1", "one", DateTimeOffset.UtcNow),
                new NewMessage(bob.UserId, "b1", "two", DateTimeOffset.UtcNow),
                new NewMessage(alice.UserId, "a2", "three", DateTimeOffset.UtcNow),
            ]);
            Assert.Contains(conversationId, await store.ListConversationsPendingFanOutAsync(null, 10_000));
        }

        await using var aliceDevice = await cluster.AttachAsync(alice, "recovery-a");
        await using var bobDevice = await cluster.AttachAsync(bob, "recovery-b");
        await cluster.Client.GetGrain<IConversationGrain>(conversationId).ResumeFanOutAsync();

        foreach (var (user, device) in new[] { (alice, aliceDevice), (bob, bobDevice) })
        {
            // (Receipts updates of the member's own messages may come between: the other one's device is live.)
            var pushed = await device.WaitForAsync(u => u.Count(x => x.Kind == UpdateKind.Message) >= 3);
            Assert.Equal([1L, 2L, 3L], pushed.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Seq));
            var page = await cluster.User(user).SyncAsync(0, 100);
            var messages = page.Updates.Where(u => u.Kind == UpdateKind.Message).ToList();
            Assert.Equal([1L, 2L, 3L], messages.Select(u => u.Seq));
            Assert.Equal(Enumerable.Range(1, page.Updates.Count).Select(i => (long)i), page.Updates.Select(u => u.UserSeq));
            Assert.Equal(["one", "two", "three"], messages.Select(u => u.Message!.Text));
        }

        // The send path continues after the recovered messages, and the mark caught up.
        var ack = await cluster.Client.GetGrain<IConversationGrain>(conversationId).SendAsync(bob.UserId, "b2", "four");
        Assert.Equal(4L, ack.Message.Seq);
        // After the three recovered messages in Bob's log (and any receipts update of his own message "two").
        var bobsLog = (await cluster.User(bob).SyncAsync(0, 100)).Updates;
        Assert.Equal((UpdateKind.Message, 4L), bobsLog.Where(u => u.UserSeq == ack.UserSeq).Select(u => (u.Kind, u.Seq)).Single());
        Assert.True(ack.UserSeq > 3);
        await using var check = cluster.OpenStorage();
        var record = await check.Conversations.GetConversationAsync(conversationId);
        Assert.True(record!.FannedOutSeq >= 3);
    }
}
