using Messenger.Grains;
using Messenger.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Messenger.Tests.Grains;

/// <summary>Opening direct conversations, the send path and history, on the two-silo cluster.</summary>
public abstract class ConversationGrainTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : ConversationGrainTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : ConversationGrainTests(cluster);

    [Fact]
    public async Task Silos_ShareOneMigratedStore()
    {
        var alice = await cluster.NewUserAsync();

        Assert.Equal(2, cluster.Cluster.Silos.Count);
        foreach (var silo in cluster.Cluster.Silos)
        {
            var store = silo.ServiceProvider.GetRequiredService<IAccountStore>();
            Assert.Equal(alice, (await store.FindAccountAsync(alice.UserId))?.Profile);
        }
    }

    [Fact]
    public async Task OpenDirect_Twice_ReturnsSameInfo()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = cluster.Conversation(alice, bob);

        var first = await conversation.OpenDirectAsync(alice.UserId);
        var second = await conversation.OpenDirectAsync(bob.UserId);

        Assert.Equal(ConversationIds.Direct(alice.UserId, bob.UserId), first.ConversationId);
        Assert.Equal(ConversationKind.Direct, first.Kind);
        Assert.Equal(Sorted(alice.UserId, bob.UserId), first.Members);
        Assert.Equal(first.ConversationId, second.ConversationId);
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.Equal(first.Members, second.Members);
        Assert.Equal(first.Members, (await conversation.GetInfoAsync(bob.UserId)).Members);
    }

    [Fact]
    public async Task OpenDirect_CallerNotInTheConversationId_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var eve = await cluster.NewUserAsync();

        var error = await Assert.ThrowsAsync<MessengerException>(() => cluster.Conversation(alice, bob).OpenDirectAsync(eve.UserId));

        Assert.Equal(ErrorCode.NotMember, error.Code);
    }

    [Fact]
    public async Task OpenDirect_ExistingConversationByNonMember_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var eve = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.OpenDirectAsync(eve.UserId));

        Assert.Equal(ErrorCode.NotMember, error.Code);
    }

    [Fact]
    public async Task OpenDirect_OtherUserDoesNotExist_ThrowsUserNotFound()
    {
        var alice = await cluster.NewUserAsync();
        var ghost = UserIds.New();
        var conversation = cluster.Client.GetGrain<IConversationGrain>(ConversationIds.Direct(alice.UserId, ghost));

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.OpenDirectAsync(alice.UserId));

        Assert.Equal(ErrorCode.UserNotFound, error.Code);
        var notOpened = await Assert.ThrowsAsync<MessengerException>(() => conversation.GetInfoAsync(alice.UserId));
        Assert.Equal(ErrorCode.NotMember, notOpened.Code);
    }

    [Fact]
    public async Task Send_FirstMessages_AckSeqs123WithSendersUserSeq()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var acks = new List<SendAck>();
        for (var i = 1; i <= 3; i++) acks.Add(await conversation.SendAsync(alice.UserId, $"m{i}", $"hello {i}"));

        Assert.Equal([1L, 2L, 3L], acks.Select(a => a.Message.Seq));
        Assert.Equal([1L, 2L, 3L], acks.Select(a => a.UserSeq));
        Assert.All(acks, a => Assert.False(a.Duplicate));
        Assert.All(acks, a => Assert.Equal(alice.UserId, a.Message.SenderId));
        Assert.Equal("hello 2", acks[1].Message.Text);
        var sync = await cluster.User(alice).SyncAsync(0, 10);
        Assert.Equal(acks.Select(a => a.Message), sync.Updates.Select(u => u.Message));
    }

    [Fact]
    public async Task Send_RetryWithSameClientMsgId_ReturnsOriginalAck()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var original = await conversation.SendAsync(alice.UserId, "retry-me", "once");
        var retry = await conversation.SendAsync(alice.UserId, "retry-me", "once");

        Assert.False(original.Duplicate);
        Assert.True(retry.Duplicate);
        Assert.Equal(original.Message, retry.Message);
        Assert.Equal(original.UserSeq, retry.UserSeq);
        var history = await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 10);
        Assert.Equal(original.Message, Assert.Single(history.Messages));
        Assert.Equal(1, history.LastSeq);
    }

    [Fact]
    public async Task Send_RetryOfAMessageNoLongerAmongTheRecentOnes_ReturnsOriginalAck()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        var original = await conversation.SendAsync(alice.UserId, "retry-me", "once");
        // More messages than the conversation keeps in memory (256 by default), well inside the dedup window.
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => conversation.SendAsync(bob.UserId, $"b{i}", "filler")));

        var retry = await conversation.SendAsync(alice.UserId, "retry-me", "once");
        var again = await conversation.SendAsync(alice.UserId, "retry-me", "once");

        foreach (var ack in (SendAck[])[retry, again])
        {
            Assert.True(ack.Duplicate);
            Assert.Equal(original.Message, ack.Message);
            Assert.Equal(original.UserSeq, ack.UserSeq);
            Assert.Empty(ack.OfflineRecipients);
        }
        Assert.Equal(301, (await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.Before, 1)).LastSeq);
    }

    [Fact]
    public async Task Send_RetryAfterConversationReactivated_ReturnsOriginalAckFromStore()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await conversation.SendAsync(bob.UserId, "b1", "first");
        var original = await conversation.SendAsync(alice.UserId, "retry-me", "once");

        await cluster.Cluster.DeactivateAsync(conversation);
        var retry = await conversation.SendAsync(alice.UserId, "retry-me", "once");
        var next = await conversation.SendAsync(alice.UserId, "after", "next");

        Assert.True(retry.Duplicate);
        Assert.Equal(original.Message, retry.Message);
        Assert.Equal(original.UserSeq, retry.UserSeq);
        Assert.Equal(3, next.Message.Seq);
        Assert.Equal([1L, 2L, 3L], (await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 10)).Messages.Select(m => m.Seq));
    }

    [Fact]
    public async Task Send_100ConcurrentFromBothUsers_GaplessSeqsAndBothLogsAgree()
    {
        const int total = 100;
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var aliceDevice = await cluster.AttachAsync(alice);
        await using var bobDevice = await cluster.AttachAsync(bob);

        var sends = new Task<SendAck>[total];
        for (var i = 0; i < total; i++)
        {
            var sender = i % 2 == 0 ? alice : bob;
            sends[i] = conversation.SendAsync(sender.UserId, $"c{i}", $"message {i}");
        }
        var acks = await Task.WhenAll(sends);
        // Acks wait only for the sender's own log; the pushes say when both logs have everything.
        await aliceDevice.WaitForAsync(u => u.Count(x => x.Kind == UpdateKind.Message) >= total);
        await bobDevice.WaitForAsync(u => u.Count(x => x.Kind == UpdateKind.Message) >= total);

        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), acks.Select(a => a.Message.Seq).Order());
        Assert.All(acks, a => Assert.False(a.Duplicate));
        var aliceLog = (await cluster.User(alice).SyncAsync(0, 500)).Updates;
        var bobLog = (await cluster.User(bob).SyncAsync(0, 500)).Updates;
        foreach (var log in (IReadOnlyList<UserUpdate>[])[aliceLog, bobLog])
        {
            // Gapless, whatever the kinds: receipts of one's own messages come between (some carried by these deliveries).
            Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(u => u.UserSeq));
            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), log.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Seq));
            Assert.All(log, u => Assert.Contains(u.Kind, (UpdateKind[])[UpdateKind.Message, UpdateKind.Receipts]));
        }
        Assert.Equal(aliceLog.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Message),
            bobLog.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Message));
        foreach (var ack in acks)
        {
            var senderLog = ack.Message.SenderId == alice.UserId ? aliceLog : bobLog;
            Assert.Equal(ack.Message, senderLog[(int)ack.UserSeq - 1].Message);
        }
    }

    [Fact]
    public async Task Send_ByNonMember_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var eve = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.SendAsync(eve.UserId, "e1", "let me in"));

        Assert.Equal(ErrorCode.NotMember, error.Code);
        Assert.Empty((await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 10)).Messages);
    }

    [Fact]
    public async Task Send_ToConversationNeverOpened_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();

        var error = await Assert.ThrowsAsync<MessengerException>(() => cluster.Conversation(alice, bob).SendAsync(alice.UserId, "m1", "hi"));

        Assert.Equal(ErrorCode.NotMember, error.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4001)] // MessengerOptions.MaxTextLength defaults to 4000
    public async Task Send_EmptyOrTooLongText_ThrowsInvalidRequest(int length)
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.SendAsync(alice.UserId, "m1", new string('x', length)));

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        var accepted = await conversation.SendAsync(alice.UserId, "m1", new string('x', 4000));
        Assert.Equal(1, accepted.Message.Seq);
    }

    [Theory]
    [InlineData("")]
    [InlineData("this-client-message-id-is-far-too-long-to-be-accepted-by-the-server-at-all")]
    public async Task Send_InvalidClientMsgId_ThrowsInvalidRequest(string clientMsgId)
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.SendAsync(alice.UserId, clientMsgId, "hi"));

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
    }

    [Fact]
    public async Task GetHistory_BeforeAndAfter_PagesInAscendingOrderWithHasMore()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        for (var i = 1; i <= 10; i++) await conversation.SendAsync(i % 2 == 0 ? bob.UserId : alice.UserId, $"m{i}", $"text {i}");

        var newest = await conversation.GetHistoryAsync(bob.UserId, 11, HistoryDirection.Before, 4);
        var older = await conversation.GetHistoryAsync(bob.UserId, newest.Messages[0].Seq, HistoryDirection.Before, 4);
        var oldest = await conversation.GetHistoryAsync(bob.UserId, older.Messages[0].Seq, HistoryDirection.Before, 4);
        var first = await conversation.GetHistoryAsync(bob.UserId, 0, HistoryDirection.After, 4);
        var last = await conversation.GetHistoryAsync(bob.UserId, 8, HistoryDirection.After, 4);
        var clamped = await conversation.GetHistoryAsync(bob.UserId, long.MaxValue, HistoryDirection.Before, 2);

        AssertPage(newest, [7, 8, 9, 10], hasMore: true);
        AssertPage(older, [3, 4, 5, 6], hasMore: true);
        AssertPage(oldest, [1, 2], hasMore: false);
        AssertPage(first, [1, 2, 3, 4], hasMore: true);
        AssertPage(last, [9, 10], hasMore: false);
        AssertPage(clamped, [9, 10], hasMore: true);
        Assert.Equal("text 7", newest.Messages[0].Text);
        Assert.Equal(bob.UserId, newest.Messages[1].SenderId);
    }

    [Fact]
    public async Task GetHistory_AfterReactivation_ReadsTheSamePagesFromTheStore()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        for (var i = 1; i <= 5; i++) await conversation.SendAsync(alice.UserId, $"m{i}", $"text {i}");
        var before = await conversation.GetHistoryAsync(bob.UserId, 0, HistoryDirection.After, 10);

        await cluster.Cluster.DeactivateAsync(conversation);
        var after = await conversation.GetHistoryAsync(bob.UserId, 0, HistoryDirection.After, 10);

        Assert.Equal(before.Messages, after.Messages);
        Assert.Equal(5, after.LastSeq);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)] // MessengerOptions.MaxPageSize defaults to 500
    public async Task GetHistory_PageSizeOutOfRange_ThrowsOutOfRange(int limit)
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, limit));

        Assert.Equal(ErrorCode.OutOfRange, error.Code);
    }

    [Fact]
    public async Task GetHistory_ByNonMember_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var eve = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await conversation.SendAsync(alice.UserId, "m1", "secret");

        var error = await Assert.ThrowsAsync<MessengerException>(() => conversation.GetHistoryAsync(eve.UserId, 0, HistoryDirection.After, 10));

        Assert.Equal(ErrorCode.NotMember, error.Code);
    }

    private static void AssertPage(HistoryPage page, long[] seqs, bool hasMore)
    {
        Assert.Equal(seqs, page.Messages.Select(m => m.Seq));
        Assert.Equal(hasMore, page.HasMore);
        Assert.Equal(10, page.LastSeq);
    }

    private static string[] Sorted(params string[] ids)
    {
        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }
}
