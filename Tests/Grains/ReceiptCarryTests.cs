using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>
/// Receipts that ride on the next delivery to their sender: with the flush interval at a minute, counts that
/// arrive within seconds can only have come with a delivery, and they sit in the sender's log right after it.
/// </summary>
public sealed class ReceiptCarryTests : IAsyncLifetime
{
    private readonly SqliteClusterFixture _cluster = new(1, new Dictionary<string, string?> { ["Messenger:ReceiptInterval"] = "00:01:00" });

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact]
    public async Task AReply_CarriesTheCountsOfWhatItAnswers_InTheSameAppend()
    {
        var (alice, bob) = (await _cluster.NewUserAsync(), await _cluster.NewUserAsync());
        var conversation = await _cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await _cluster.AttachAsync(alice, "alice-phone");
        // Bob has no device: his receipts move only when he replies. The first send's flush ran at once (with nothing
        // to send); the next may not run for a minute.
        var first = await conversation.SendAsync(alice.UserId, "m1", "lunch?");

        var reply = await conversation.SendAsync(bob.UserId, "r1", "yes"); // replying means having read it

        var pushed = await aliceDevice.WaitForAsync(u => u.Any(x => x.Kind == UpdateKind.Receipts));
        var receipts = Assert.Single(pushed, u => u.Kind == UpdateKind.Receipts);
        Assert.Equal([new MessageReceipt(first.Message.Seq, 1, 1, 1)], receipts.Receipts);
        var log = (await _cluster.User(alice).SyncAsync(0, 100)).Updates;
        var carried = log.Single(u => u.Kind == UpdateKind.Receipts);
        var replyInLog = log.Single(u => u.Kind == UpdateKind.Message && u.Seq == reply.Message.Seq);
        Assert.Equal(replyInLog.UserSeq + 1, carried.UserSeq); // the same append, right after the reply
        Assert.Equal(receipts.Receipts, carried.Receipts);
    }

    [Fact]
    public async Task ASendersNextMessage_CarriesTheDeliveredCountsOfTheLastOne_ToItsAck()
    {
        var (alice, bob) = (await _cluster.NewUserAsync(), await _cluster.NewUserAsync());
        var conversation = await _cluster.OpenDirectAsync(alice, bob);
        await using var bobDevice = await _cluster.AttachAsync(bob, "bob-phone");
        var first = await conversation.SendAsync(alice.UserId, "m1", "one");
        // Bob's live device received it; the count waits for a flush a minute away.
        await bobDevice.WaitForCountAsync(1);
        await WaitUntilReceivedAsync(conversation, alice, first.Message.Seq);
        Assert.DoesNotContain((await _cluster.User(alice).SyncAsync(0, 100)).Updates, u => u.Kind == UpdateKind.Receipts);

        var second = await conversation.SendAsync(alice.UserId, "m2", "two");

        // The ack waited for Alice's own delivery, which carried the count: it is in her log already.
        var log = (await _cluster.User(alice).SyncAsync(0, 100)).Updates;
        var carried = Assert.Single(log, u => u.Kind == UpdateKind.Receipts);
        Assert.Equal(second.UserSeq + 1, carried.UserSeq);
        Assert.Equal([new MessageReceipt(first.Message.Seq, 1, 0, 1)], carried.Receipts);
    }

    [Fact]
    public async Task CountsHeldBackByThePacing_GoWhenTheConversationDeactivates()
    {
        var (alice, bob) = (await _cluster.NewUserAsync(), await _cluster.NewUserAsync());
        var conversation = await _cluster.OpenDirectAsync(alice, bob);
        await conversation.SendAsync(alice.UserId, "m1", "one");
        await conversation.SendAsync(bob.UserId, "r1", "reply"); // carries m1's counts: Alice is not due another for a minute
        var second = await conversation.SendAsync(alice.UserId, "m2", "two");
        await _cluster.User(bob).SyncAsync(0, 100); // Bob's device fetches his log: m2 is received, owed to Alice, held back
        await WaitUntilReceivedAsync(conversation, alice, second.Message.Seq);
        Assert.DoesNotContain((await _cluster.User(alice).SyncAsync(0, 100)).Updates,
            u => u.Kind == UpdateKind.Receipts && u.Receipts!.Any(r => r.Seq == second.Message.Seq));

        // Every idle activation goes, as when a silo shuts down: the conversation's last flush sends what it held back.
        await _cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // The carried update, then the one the last flush sent.
        var log = await _cluster.WaitForLogAsync(alice, 2, [UpdateKind.Receipts]);
        Assert.Contains(log, u => u.Kind == UpdateKind.Receipts && u.Receipts!.Contains(new MessageReceipt(second.Message.Seq, 1, 0, 1)));
    }

    /// <summary>Waits until the conversation counts <paramref name="seq"/> as received (its pointers have moved).</summary>
    private static async Task WaitUntilReceivedAsync(IConversationGrain conversation, UserProfile sender, long seq)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while ((await conversation.GetReceiptsAsync(sender.UserId, seq)).DeliveredTo.Count == 0) await Task.Delay(10, deadline.Token);
    }
}
