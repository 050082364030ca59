using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Grains;

/// <summary>
/// The send path's independence from other members and its recovery from a stale activation: an
/// ack waits for the sender's own log only; a slow or failing member delays only itself; a store
/// conflict retires the stale activation, whose successor reloads and carries on.
/// </summary>
public abstract class DeliveryPathTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : DeliveryPathTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : DeliveryPathTests(cluster);

    [Fact]
    public async Task Ack_DoesNotWaitForAStalledMember_WhoGetsTheMessageOnceFreed()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await cluster.AttachAsync(alice, "stall-a");
        await using var bobDevice = await cluster.AttachAsync(bob, "stall-b");

        SendAck ack;
        using (DeliveryGate.Hold(bob.UserId))
        {
            ack = await conversation.SendAsync(alice.UserId, "s1", "are you stuck?");
            await DeliveryGate.ReachedAsync(bob.UserId);
            // Acked, and on the sender's own devices, while the delivery to Bob is still held.
            Assert.Equal((1L, 1L), (ack.Message.Seq, ack.UserSeq));
            await aliceDevice.WaitForCountAsync(1);
            Assert.Empty(bobDevice.Updates);
            await using var storage = cluster.OpenStorage(); // Bob's grain is busy with the held call
            Assert.Empty(await storage.UserLogs.ReadUpdatesAsync(bob.UserId, 0, 10));
        }

        var pushed = await bobDevice.WaitForCountAsync(1);
        Assert.Equal(ack.Message, Assert.Single(pushed).Message);
        Assert.Equal(ack.Message, Assert.Single((await cluster.User(bob).SyncAsync(0, 10)).Updates).Message);
    }

    [Fact]
    public async Task Send_WithAMemberWhoseDeliveryKeepsFailing_IsAckedAndReachesEveryoneElse()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        // A member with no account: every delivery to them fails, and is retried with backoff.
        var ghost = UserIds.New();
        var conversationId = "g:" + Guid.NewGuid().ToString("N");
        await using (var storage = cluster.OpenStorage())
        {
            var members = new[] { alice.UserId, bob.UserId, ghost }.Order(StringComparer.Ordinal).ToArray();
            await storage.Conversations.CreateConversationAsync(new ConversationInfo(conversationId, ConversationKind.Group, members, DateTimeOffset.UtcNow));
        }
        await using var bobDevice = await cluster.AttachAsync(bob, "ghost-b");
        var conversation = cluster.Client.GetGrain<IConversationGrain>(conversationId);

        var acks = new List<SendAck>();
        for (var i = 1; i <= 3; i++) acks.Add(await conversation.SendAsync(alice.UserId, $"g{i}", $"hello {i}"));

        // Each ack names where the message is in Alice's log (receipts of her earlier ones may come between).
        var aliceLog = (await cluster.User(alice).SyncAsync(0, 100)).Updates;
        Assert.Equal(acks.Select(a => a.Message), acks.Select(a => aliceLog.Single(u => u.UserSeq == a.UserSeq).Message));
        var pushed = await bobDevice.WaitForCountAsync(3);
        Assert.Equal(acks.Select(a => a.Message), pushed.Select(u => u.Message));
        // The mark the conversation saves cannot pass the member that has nothing yet.
        await using var check = cluster.OpenStorage();
        Assert.Equal(0, (await check.Conversations.GetConversationAsync(conversationId))!.FannedOutSeq);
    }

    [Fact]
    public async Task Send_WhoseSendersOwnLogFails_ReachesTheRecipientAtOnce_AndIsAckedOnceTheLogTakesIt()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var bobDevice = await cluster.AttachAsync(bob, "bob-phone");

        // Committed, but Alice's own log refuses it: the ack (which names its place there) waits; Bob does not.
        DeliveryGate.FailDeliveries(alice.UserId, 1_000);
        var send = conversation.SendAsync(alice.UserId, "f1", "hello");
        var pushed = await bobDevice.WaitForCountAsync(1);
        Assert.Equal("hello", pushed[0].Message!.Text);
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            while (DeliveryGate.DeliveryFailuresLeft(alice.UserId) > 1_000 - 2) await Task.Delay(10, deadline.Token); // failed twice: tried again, with backoff
        }
        Assert.False(send.IsCompleted);

        DeliveryGate.FailDeliveries(alice.UserId, 0);
        var ack = await send;
        Assert.False(ack.Duplicate);
        Assert.Equal(pushed[0].Message, ack.Message);
        var aliceLog = (await cluster.User(alice).SyncAsync(0, 100)).Updates;
        Assert.Equal(ack.Message, aliceLog.Single(u => u.Kind == UpdateKind.Message).Message);
        Assert.Equal(ack.UserSeq, aliceLog.Single(u => u.Kind == UpdateKind.Message).UserSeq);
        // A retry of the same send gets the same ack.
        var retry = await conversation.SendAsync(alice.UserId, "f1", "hello");
        Assert.True(retry.Duplicate);
        Assert.Equal((ack.Message, ack.UserSeq), (retry.Message, retry.UserSeq));
    }

    [Fact]
    public async Task UserStoreConflict_RetiresTheStaleActivation_AndDeliveryResumesOnAFreshOne()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        var first = await conversation.SendAsync(alice.UserId, "c1", "one");
        // Bob's grain is active and believes his log ends at userSeq 1.
        Assert.Equal(1, (await cluster.User(bob).SyncAsync(0, 10)).LastUserSeq);

        // Another activation of Bob (as during a cluster membership change) wrote userSeq 2 behind
        // this one's back: a read mark.
        await using (var storage = cluster.OpenStorage())
        {
            await storage.UserLogs.AppendUpdatesAsync(bob.UserId, [new UpdatePointer(2, UpdateKind.Read, conversation.GetPrimaryKeyString(), 1, true)], []);
        }

        var second = await conversation.SendAsync(alice.UserId, "c2", "two");
        var log = await WaitForLogAsync(bob, 3);

        // The stale activation's append conflicted and it went away; the fresh one read the log's end
        // and appended the message after the other activation's update. Nothing lost, nothing forked.
        Assert.Equal([1L, 2L, 3L], log.Select(u => u.UserSeq));
        Assert.Equal([UpdateKind.Message, UpdateKind.Read, UpdateKind.Message], log.Select(u => u.Kind));
        Assert.Equal([first.Message, null, second.Message], log.Select(u => u.Message));
        Assert.Equal(2, second.UserSeq); // Alice's own log was never in conflict.
    }

    [Fact]
    public async Task ConversationStoreConflict_AnswersUnavailable_AndItsRetryLandsAfterTheOtherWritersMessage()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await conversation.SendAsync(alice.UserId, "c1", "one");

        // Another activation of the conversation appended seq 2 behind this one's back.
        await using (var storage = cluster.OpenStorage())
        {
            await storage.Conversations.AppendMessagesAsync(conversation.GetPrimaryKeyString(), 1,
                [new NewMessage(bob.UserId, "other-writer", "from the other activation", DateTimeOffset.UtcNow)]);
        }

        // Nothing of the send was written and a retry reaches a fresh activation: the client is told to retry.
        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.SendAsync(alice.UserId, "c2", "two"));
        Assert.Equal(ErrorCode.Unavailable, error.Code);
        var retry = await conversation.SendAsync(alice.UserId, "c2", "two");

        Assert.False(retry.Duplicate);
        Assert.Equal(3, retry.Message.Seq);
        var history = await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 10);
        Assert.Equal(["one", "from the other activation", "two"], history.Messages.Select(m => m.Text));
        // The other writer's message was fanned out by the fresh activation too.
        var bobLog = await WaitForLogAsync(bob, 3, [UpdateKind.Message]);
        // (A receipts update of Bob's own message may come between.)
        Assert.Equal([1L, 2L, 3L], bobLog.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Seq));
    }

    [Fact]
    public async Task User_ReactivatedWithItsCheckpointBehind_RebuildsTheListFromTheLog()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversationId = ConversationIds.Direct(alice.UserId, bob.UserId);
        var members = new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal).ToArray();

        // What a crash can leave: Bob's log has pointers that no checkpoint of his list reflects yet,
        // and his grain was never activated since.
        await using (var storage = cluster.OpenStorage())
        {
            await storage.Conversations.CreateConversationAsync(new ConversationInfo(conversationId, ConversationKind.Direct, members, DateTimeOffset.UtcNow));
            var results = await storage.Conversations.AppendMessagesAsync(conversationId, 0,
            [
                new NewMessage(alice.UserId, "a1", "one", DateTimeOffset.UtcNow),
                new NewMessage(bob.UserId, "b1", "two", DateTimeOffset.UtcNow),
                new NewMessage(alice.UserId, "a2", "three", DateTimeOffset.UtcNow),
            ]);
            await storage.UserLogs.AppendUpdatesAsync(bob.UserId,
            [
                new UpdatePointer(1, UpdateKind.Message, conversationId, 1, false),
                new UpdatePointer(2, UpdateKind.Message, conversationId, 2, true),
                new UpdatePointer(3, UpdateKind.Message, conversationId, 3, false),
            ], []);
            await storage.Conversations.SetFannedOutAsync(conversationId, 3);
            Assert.Equal(3, results[^1].Message.Seq);
        }

        var summary = Assert.Single(await cluster.User(bob).ListConversationsAsync());

        Assert.Equal(conversationId, summary.Conversation.ConversationId);
        Assert.Equal(members, summary.Conversation.Members);
        Assert.Equal((3L, 2L, 1L), (summary.LastSeq, summary.ReadSeq, summary.Unread));
        Assert.Equal("three", summary.LastMessage?.Text);
        Assert.Equal(2, await cluster.User(bob).MarkReadAsync(conversationId, 1)); // never back
    }

    // (Deliveries retried after a conflict run on a backoff timer: the wait has a deadline.)
    private Task<IReadOnlyList<UserUpdate>> WaitForLogAsync(UserProfile user, int count, UpdateKind[]? kinds = null) =>
        cluster.WaitForLogAsync(user, count, kinds);
}
