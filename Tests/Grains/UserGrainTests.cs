using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>Accounts, conversation lists with unread counts, read marks and live pushes, on the two-silo cluster.</summary>
public abstract class UserGrainTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : UserGrainTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : UserGrainTests(cluster);

    [Fact]
    public async Task Register_ThenFind_ReturnsProfileAndHash()
    {
        var directory = cluster.Client.GetGrain<IAccountDirectoryGrain>(0);
        var username = "T" + Guid.NewGuid().ToString("N")[..12];

        var profile = await directory.RegisterAsync(username, "hash-1");
        var found = await directory.FindAsync(username.ToUpperInvariant());

        Assert.Equal(username.ToLowerInvariant(), profile.Username);
        Assert.True(UserIds.IsValid(profile.UserId));
        Assert.Equal(profile, found?.Profile);
        Assert.Equal("hash-1", found?.PasswordHash);
        Assert.Equal(profile, await cluster.Client.GetGrain<IUserGrain>(profile.UserId).GetProfileAsync());
    }

    [Fact]
    public async Task Register_TakenUsername_ThrowsUsernameTaken()
    {
        var directory = cluster.Client.GetGrain<IAccountDirectoryGrain>(0);
        var username = "t" + Guid.NewGuid().ToString("N")[..12];
        await directory.RegisterAsync(username, "hash-1");

        var error = await Assert.ThrowsAsync<MessengerException>(() => directory.RegisterAsync(username.ToUpperInvariant(), "hash-2"));

        Assert.Equal(ErrorCode.UsernameTaken, error.Code);
    }

    [Fact]
    public async Task GetProfile_UnknownUser_ThrowsUserNotFound()
    {
        var error = await Assert.ThrowsAsync<MessengerException>(() => cluster.Client.GetGrain<IUserGrain>(UserIds.New()).GetProfileAsync());

        Assert.Equal(ErrorCode.UserNotFound, error.Code);
    }

    [Fact]
    public async Task ListConversations_AfterMessages_RecipientUnreadIsCountAndSendersIsZero()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var bobDevice = await cluster.AttachAsync(bob);

        for (var i = 1; i <= 3; i++) await conversation.SendAsync(alice.UserId, $"m{i}", $"text {i}");
        await bobDevice.WaitForCountAsync(3);

        var bobs = Assert.Single(await cluster.User(bob).ListConversationsAsync());
        Assert.Equal(ConversationIds.Direct(alice.UserId, bob.UserId), bobs.Conversation.ConversationId);
        Assert.Equal(3, bobs.LastSeq);
        Assert.Equal(0, bobs.ReadSeq);
        Assert.Equal(3, bobs.Unread);
        Assert.Equal("text 3", bobs.LastMessage?.Text);
        var alices = Assert.Single(await cluster.User(alice).ListConversationsAsync());
        Assert.Equal(3, alices.LastSeq);
        Assert.Equal(0, alices.Unread);
    }

    [Fact]
    public async Task ListConversations_OpenedButEmpty_ListedWithoutLastMessage()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        await cluster.OpenDirectAsync(alice, bob);

        var bobs = Assert.Single(await cluster.User(bob).ListConversationsAsync());

        Assert.Equal(0, bobs.LastSeq);
        Assert.Equal(0, bobs.Unread);
        Assert.Null(bobs.LastMessage);
    }

    [Fact]
    public async Task MarkRead_MovesForwardNeverBackAndLogsOneReadUpdate()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        var conversationId = ConversationIds.Direct(alice.UserId, bob.UserId);
        await using var bobDevice = await cluster.AttachAsync(bob);
        for (var i = 1; i <= 3; i++) await conversation.SendAsync(alice.UserId, $"m{i}", $"text {i}");
        await bobDevice.WaitForCountAsync(3);
        var user = cluster.User(bob);

        Assert.Equal(2, await user.MarkReadAsync(conversationId, 2));
        Assert.Equal(2, await user.MarkReadAsync(conversationId, 1));
        Assert.Equal(2, await user.MarkReadAsync(conversationId, 2));

        var summary = Assert.Single(await user.ListConversationsAsync());
        Assert.Equal(2, summary.ReadSeq);
        Assert.Equal(1, summary.Unread);
        var sync = await user.SyncAsync(0, 10);
        Assert.Equal(4, sync.LastUserSeq);
        Assert.Equal(new UserUpdate(4, UpdateKind.Read, conversationId, 2, null), sync.Updates[^1]);
        Assert.Equal(3, sync.Updates.Count(u => u.Kind == UpdateKind.Message));
    }

    [Fact]
    public async Task MarkRead_BeyondLastSeq_ThrowsOutOfRange()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        var ack = await conversation.SendAsync(alice.UserId, "m1", "hi");

        var error = await Assert.ThrowsAsync<MessengerException>(() => cluster.User(alice).MarkReadAsync(ack.Message.ConversationId, 2));

        Assert.Equal(ErrorCode.OutOfRange, error.Code);
    }

    [Fact]
    public async Task MarkRead_ConversationNotInList_ThrowsNotMember()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var eve = await cluster.NewUserAsync();
        await cluster.OpenDirectAsync(alice, bob);

        var error = await Assert.ThrowsAsync<MessengerException>(() =>
            cluster.User(eve).MarkReadAsync(ConversationIds.Direct(alice.UserId, bob.UserId), 0));

        Assert.Equal(ErrorCode.NotMember, error.Code);
    }

    [Fact]
    public async Task Sync_PagesWithHasMoreAndRejectsCursorPastTheEnd()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        for (var i = 1; i <= 5; i++) await conversation.SendAsync(alice.UserId, $"m{i}", $"text {i}");
        var user = cluster.User(alice);

        var first = await user.SyncAsync(0, 3);
        var rest = await user.SyncAsync(3, 3);
        var none = await user.SyncAsync(5, 3);

        Assert.Equal([1L, 2L, 3L], first.Updates.Select(u => u.UserSeq));
        Assert.True(first.HasMore);
        Assert.Equal([4L, 5L], rest.Updates.Select(u => u.UserSeq));
        Assert.False(rest.HasMore);
        Assert.Empty(none.Updates);
        Assert.Equal(5, none.LastUserSeq);
        var error = await Assert.ThrowsAsync<MessengerException>(() => user.SyncAsync(6, 3));
        Assert.Equal(ErrorCode.OutOfRange, error.Code);
    }

    [Fact]
    public async Task AttachedDevice_ReceivesPushedUpdatesWithConsecutiveUserSeqs()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        // Alice's own ack means her log holds it: the device starts after userSeq 1.
        await conversation.SendAsync(alice.UserId, "before", "sent before the device attached");
        await using var aliceDevice = await cluster.AttachAsync(alice);
        var conversationId = ConversationIds.Direct(alice.UserId, bob.UserId);

        for (var i = 1; i <= 3; i++) await conversation.SendAsync(bob.UserId, $"m{i}", $"text {i}");
        await aliceDevice.WaitForCountAsync(4);
        await cluster.User(alice).MarkReadAsync(conversationId, 4);
        var updates = await aliceDevice.WaitForCountAsync(5);

        Assert.Equal(1, aliceDevice.AttachedAtUserSeq);
        Assert.Equal([2L, 3L, 4L, 5L, 6L], updates.Select(u => u.UserSeq));
        // Bob's first reply means he read Alice's message: its counts come with the reply, right after it.
        Assert.Equal([UpdateKind.Message, UpdateKind.Receipts, UpdateKind.Message, UpdateKind.Message, UpdateKind.Read], updates.Select(u => u.Kind));
        Assert.Equal(["text 1", "text 2", "text 3"], updates.Where(u => u.Kind == UpdateKind.Message).Select(u => u.Message?.Text));
        Assert.Equal([new MessageReceipt(1, 1, 1, 1)], updates[1].Receipts);
        Assert.Equal(4, updates[4].Seq);
        Assert.Equal([alice.UserId], aliceDevice.Recipients);
    }

    [Fact]
    public async Task DetachedDevice_StopsReceivingWhileOthersStillDo()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await using var phone = await cluster.AttachAsync(alice, "phone");
        await using var laptop = await cluster.AttachAsync(alice, "laptop");

        await conversation.SendAsync(bob.UserId, "m1", "both devices");
        await phone.WaitForCountAsync(1);
        await laptop.WaitForCountAsync(1);
        await phone.DetachAsync();
        await conversation.SendAsync(bob.UserId, "m2", "laptop only");
        await conversation.SendAsync(bob.UserId, "m3", "laptop only, too");
        // Both sessions are pushed to in one pass; once the laptop has both, the phone would have too.
        await laptop.WaitForCountAsync(3);

        Assert.Equal(["both devices"], phone.Updates.Select(u => u.Message?.Text));
        Assert.Equal(["both devices", "laptop only", "laptop only, too"], laptop.Updates.Select(u => u.Message?.Text));
    }
}
