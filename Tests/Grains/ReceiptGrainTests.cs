using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>Receipts on the two-silo cluster: counts reach the sender's devices through their update log.</summary>
public abstract class ReceiptGrainTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : ReceiptGrainTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : ReceiptGrainTests(cluster);

    [Fact]
    public async Task Direct_DeliveredToALiveDevice_ThenRead_ReachTheSendersDevices()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await cluster.AttachAsync(alice, "alice-phone");
        await using var bobDevice = await cluster.AttachAsync(bob, "bob-phone");

        var (ack, delivered) = await SendAndSeeDeliveredAsync(conversation, alice, aliceDevice, bobDevice);
        await cluster.User(bob).MarkReadAsync(conversation.GetPrimaryKeyString(), 1);
        var read = await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == 1 && r.Read == 1)));

        Assert.All(read.Where(u => u.Kind == UpdateKind.Receipts), u => Assert.All(u.Receipts!, r => Assert.Equal(1, r.Of)));
        // They are in Alice's log, so her other devices get them at their next sync.
        var log = await cluster.User(alice).SyncAsync(0, 100);
        Assert.Contains(log.Updates, u => u.Kind == UpdateKind.Receipts && u.Receipts!.Any(r => r.Seq == 1 && r.Read == 1));
        var detail = await conversation.GetReceiptsAsync(alice.UserId, 1);
        Assert.Equal(1, detail.Of);
        Assert.Equal([bob.UserId], detail.DeliveredTo);
        Assert.Equal([bob.UserId], detail.ReadBy);
        Assert.NotEmpty(delivered);
    }

    [Fact]
    public async Task AReceiptUpdateThatFailed_IsSentAgain_WithNothingElseHappening()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await cluster.AttachAsync(alice, "alice-phone");
        await using var bobDevice = await cluster.AttachAsync(bob, "bob-phone");
        var (ack, _) = await SendAndSeeDeliveredAsync(conversation, alice, aliceDevice, bobDevice);

        // The read receipt's first way to Alice fails; nothing else happens in the conversation after it.
        DeliveryGate.FailReceipts(alice.UserId, 1);
        await cluster.User(bob).MarkReadAsync(conversation.GetPrimaryKeyString(), ack.Message.Seq);

        await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == ack.Message.Seq && r.Read == 1)));
        Assert.Equal(0, DeliveryGate.ReceiptFailuresLeft(alice.UserId)); // it did fail once on the way
        var log = await cluster.User(alice).SyncAsync(0, 100);
        Assert.Contains(log.Updates, u => u.Kind == UpdateKind.Receipts && u.Receipts!.Any(r => r.Seq == ack.Message.Seq && r.Read == 1));
    }

    /// <summary>Alice sends "hello" to Bob; returns once his device has it and hers has the delivered count (and those updates).</summary>
    private static async Task<(SendAck Ack, IReadOnlyList<UserUpdate> Delivered)> SendAndSeeDeliveredAsync(
        IConversationGrain conversation, UserProfile alice, UpdateRecorder aliceDevice, UpdateRecorder bobDevice)
    {
        var ack = await conversation.SendAsync(alice.UserId, "m1", "hello");
        await bobDevice.WaitForCountAsync(1);
        var delivered = await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == ack.Message.Seq && r.Delivered == 1)));
        return (ack, delivered);
    }

    [Fact]
    public async Task Group_OfflineMemberCountsOnlyOnceTheirDeviceSyncs_AndWhoReadIsListed()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var group = cluster.Client.GetGrain<IConversationGrain>(ConversationIds.NewGroup());
        await group.CreateGroupAsync(alice.UserId, "Team", [bob.UserId, carol.UserId]);
        await using var aliceDevice = await cluster.AttachAsync(alice, "alice-phone");
        await using var bobDevice = await cluster.AttachAsync(bob, "bob-phone");

        var ack = await group.SendAsync(alice.UserId, "m1", "hello both");
        var seq = ack.Message.Seq;
        await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == seq && r.Delivered == 1 && r.Of == 2)));
        var carolsPage = await cluster.User(carol).SyncAsync(0, 100); // Carol's device comes online and fetches her log
        Assert.Contains(carolsPage.Updates, u => u.Seq == seq);
        await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == seq && r.Delivered == 2)));
        await cluster.User(carol).MarkReadAsync(group.GetPrimaryKeyString(), seq);
        await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == seq && r.Read == 1)));

        var detail = await group.GetReceiptsAsync(bob.UserId, seq);
        Assert.Equal(alice.UserId, detail.SenderId);
        Assert.Equal(2, detail.Of);
        Assert.Equal(new[] { bob.UserId, carol.UserId }.Order(StringComparer.Ordinal), detail.DeliveredTo);
        Assert.Equal([carol.UserId], detail.ReadBy);
        Assert.Equal(ErrorCode.OutOfRange, (await Assert.ThrowsAsync<MessengerException>(() => group.GetReceiptsAsync(bob.UserId, seq + 5))).Code);
        Assert.Equal(ErrorCode.OutOfRange, (await Assert.ThrowsAsync<MessengerException>(() => group.GetReceiptsAsync(bob.UserId, 1))).Code); // the created event
        // A member who joins later sees no receipts of what came before their join.
        var dave = await cluster.NewUserAsync();
        await group.AddMembersAsync(alice.UserId, [dave.UserId]);
        Assert.Equal(ErrorCode.OutOfRange, (await Assert.ThrowsAsync<MessengerException>(() => group.GetReceiptsAsync(dave.UserId, seq))).Code);
    }
    [Fact]
    public async Task OfflineMember_WhoseDeviceFetchesHistory_HasReceivedUpToItsNewestMessage()
    {
        var (alice, bob) = (await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await cluster.AttachAsync(alice, "alice-phone");
        var first = await conversation.SendAsync(alice.UserId, "m1", "one");
        var second = await conversation.SendAsync(alice.UserId, "m2", "two");
        var third = await conversation.SendAsync(alice.UserId, "m3", "three");
        // Bob has no device connected and has never synced: nothing is delivered.
        Assert.Empty((await conversation.GetReceiptsAsync(alice.UserId, third.Message.Seq)).DeliveredTo);

        // A device of Bob's starts from history (as the web page does) and fetches the first two messages.
        var page = await conversation.GetHistoryAsync(bob.UserId, 0, HistoryDirection.After, 2);
        Assert.Equal([first.Message.Seq, second.Message.Seq], page.Messages.Select(m => m.Seq));
        await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts && x.Receipts!.Any(r => r.Seq == second.Message.Seq && r.Delivered == 1)));
        Assert.Equal([bob.UserId], (await conversation.GetReceiptsAsync(alice.UserId, first.Message.Seq)).DeliveredTo);
        Assert.Equal([bob.UserId], (await conversation.GetReceiptsAsync(alice.UserId, second.Message.Seq)).DeliveredTo);
        Assert.Empty((await conversation.GetReceiptsAsync(alice.UserId, third.Message.Seq)).DeliveredTo); // not in the page
        Assert.Empty((await conversation.GetReceiptsAsync(alice.UserId, second.Message.Seq)).ReadBy); // received is not read
        // The sender's own history reads move nothing of the others'.
        await conversation.GetHistoryAsync(alice.UserId, third.Message.Seq + 1, HistoryDirection.Before, 10);
        Assert.Empty((await conversation.GetReceiptsAsync(alice.UserId, third.Message.Seq)).DeliveredTo);
    }
}
