using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>The user update log, user loading, and concurrent writers.</summary>
public abstract partial class MessageStoreContract
{
    [Fact]
    public async Task ReadUserUpdates_JoinsTheMessageForMessageUpdatesAndNullForRead()
    {
        var c = await ConversationWithMessagesAsync(2);
        var messages = await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);

        await Store.AppendUserUpdatesAsync("u-a",
            [Delivered(1, messages[0]), Delivered(2, messages[1]), new UserUpdate(3, UpdateKind.Read, c, 2, null)],
            [Entry(c, lastSeq: 2, readSeq: 2)]);

        var updates = await Store.ReadUserUpdatesAsync("u-a", 0, 10);
        Assert.Equal([1L, 2L, 3L], updates.Select(u => u.UserSeq));
        Assert.Equal(new UserUpdate(1, UpdateKind.Message, c, 1, messages[0]), updates[0]);
        Assert.Equal(new UserUpdate(2, UpdateKind.Message, c, 2, messages[1]), updates[1]);
        Assert.Equal(new UserUpdate(3, UpdateKind.Read, c, 2, null), updates[2]);
    }

    [Fact]
    public async Task ReadUserUpdates_ReturnsUpdatesAfterCursorUpToLimitForThatUserOnly()
    {
        var c = await ConversationWithMessagesAsync(6);
        var messages = await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        var forA = new UserUpdate[6];
        for (var i = 0; i < 6; i++) forA[i] = Delivered(i + 1, messages[i]);
        await Store.AppendUserUpdatesAsync("u-a", forA, [Entry(c, 6, 0)]);
        await Store.AppendUserUpdatesAsync("u-b", [Delivered(1, messages[0])], [Entry(c, 1, 0)]);

        Assert.Equal([3L, 4L, 5L], (await Store.ReadUserUpdatesAsync("u-a", 2, 3)).Select(u => u.UserSeq));
        Assert.Equal([6L], (await Store.ReadUserUpdatesAsync("u-a", 5, 3)).Select(u => u.UserSeq));
        Assert.Empty(await Store.ReadUserUpdatesAsync("u-a", 6, 3));
        Assert.Equal([1L], (await Store.ReadUserUpdatesAsync("u-b", 0, 10)).Select(u => u.UserSeq));
    }

    [Fact]
    public async Task AppendUserUpdates_TakenUserSeq_ThrowsConflictAndWritesNothingOfThatCall()
    {
        var c = await ConversationWithMessagesAsync(3);
        var messages = await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await Store.AppendUserUpdatesAsync("u-a", [Delivered(1, messages[0]), Delivered(2, messages[1])], [Entry(c, 2, 0)]);

        // userSeq 3 is free but 2 is taken: the whole call must fail, 3 and the entry included.
        await Assert.ThrowsAsync<StoreConflictException>(() => Store.AppendUserUpdatesAsync("u-a",
            [Delivered(3, messages[2]), new UserUpdate(2, UpdateKind.Read, c, 1, null)],
            [Entry(c, 3, 3)]));

        Assert.Equal([1L, 2L], (await Store.ReadUserUpdatesAsync("u-a", 0, 10)).Select(u => u.UserSeq));
        var user = await Store.LoadUserAsync("u-a");
        Assert.Equal(2, user.LastUserSeq);
        var entry = Assert.Single(user.Conversations);
        Assert.Equal(2, entry.LastSeq);
        Assert.Equal(0, entry.ReadSeq);
        Assert.Equal(0, await Store.FindUserSeqAsync("u-a", c, 3));
    }

    [Fact]
    public async Task LoadUser_UnknownUser_ReturnsZeroAndNoConversations()
    {
        var user = await Store.LoadUserAsync("u-nobody");

        Assert.Equal(0, user.LastUserSeq);
        Assert.Empty(user.Conversations);
    }

    [Fact]
    public async Task LoadUser_ReturnsLastUserSeqAndEntriesWithLastMessageAndMembers()
    {
        var withMessages = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var joinedOnly = await NewConversationAsync("u-a", "u-c");
        var messages = await Store.ReadMessagesAsync(withMessages, 0, HistoryDirection.After, 10);
        await Store.AppendUserUpdatesAsync("u-a", [], [Entry(joinedOnly, 0, 0, "u-a", "u-c")]);
        await Store.AppendUserUpdatesAsync("u-a", [Delivered(1, messages[0]), Delivered(2, messages[1])], [Entry(withMessages, 2, 1)]);
        await Store.AppendUserUpdatesAsync("u-a", [Delivered(3, messages[2])], [Entry(withMessages, 3, 1)]);

        var user = await Store.LoadUserAsync("u-a");

        Assert.Equal(3, user.LastUserSeq);
        Assert.Equal(2, user.Conversations.Count);
        var active = Assert.Single(user.Conversations, e => e.Conversation.ConversationId == withMessages);
        Assert.Equal(3, active.LastSeq);
        Assert.Equal(1, active.ReadSeq);
        Assert.Equal(messages[2], active.LastMessage);
        Assert.Equal(ConversationKind.Direct, active.Conversation.Kind);
        Assert.Equal(["u-a", "u-b"], Sorted(active.Conversation.Members));
        var quiet = Assert.Single(user.Conversations, e => e.Conversation.ConversationId == joinedOnly);
        Assert.Equal(0, quiet.LastSeq);
        Assert.Null(quiet.LastMessage);
        Assert.Equal(["u-a", "u-c"], Sorted(quiet.Conversation.Members));
    }

    [Fact]
    public async Task FindUserSeq_DeliveredMessage_ReturnsItsUserSeqOtherwiseZero()
    {
        var c = await ConversationWithMessagesAsync(2);
        var messages = await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await Store.AppendUserUpdatesAsync("u-a",
            [new UserUpdate(1, UpdateKind.Read, c, 1, null), Delivered(2, messages[1])], [Entry(c, 2, 1)]);

        Assert.Equal(2, await Store.FindUserSeqAsync("u-a", c, 2));
        Assert.Equal(0, await Store.FindUserSeqAsync("u-a", c, 1)); // only a Read update points at seq 1
        Assert.Equal(0, await Store.FindUserSeqAsync("u-b", c, 2));
    }

    [Fact]
    public async Task ConcurrentWrites_FromManyConversations_AllCommitAndSurviveReopen()
    {
        const int conversations = 50;
        var ids = new string[conversations];
        for (var i = 0; i < conversations; i++) ids[i] = ConversationIds.Direct("u-hub", $"u-{i:D2}");
        await Task.WhenAll(ids.Select(id =>
            Store.CreateConversationAsync(new ConversationInfo(id, ConversationKind.Direct, [], DateTimeOffset.UnixEpoch))));

        var firstRound = await Task.WhenAll(ids.Select((id, i) => Store.AppendMessagesAsync(id, 0,
            [Message($"u-{i:D2}", "m1", $"first {i}"), Message("u-hub", "m1", $"second {i}")])));
        var secondRound = await Task.WhenAll(ids.Select((id, i) => Store.AppendMessagesAsync(id, 2,
            [Message($"u-{i:D2}", "m2", $"third {i}")])));
        await Task.WhenAll(ids.Select((id, i) => Store.AppendUserUpdatesAsync($"u-{i:D2}",
            [Delivered(1, firstRound[i][0].Message), Delivered(2, firstRound[i][1].Message), Delivered(3, secondRound[i][0].Message)],
            [Entry(id, 3, 3)])));

        await ReopenAsync();

        for (var i = 0; i < conversations; i++)
        {
            Assert.Equal(3, (await Store.GetConversationAsync(ids[i]))!.LastSeq);
            Assert.Equal([$"first {i}", $"second {i}", $"third {i}"],
                (await Store.ReadMessagesAsync(ids[i], 0, HistoryDirection.After, 10)).Select(m => m.Text));
            var user = await Store.LoadUserAsync($"u-{i:D2}");
            Assert.Equal(3, user.LastUserSeq);
            Assert.Equal($"third {i}", Assert.Single(user.Conversations).LastMessage?.Text);
        }
    }

    private static UserUpdate Delivered(long userSeq, ChatMessage message) =>
        new(userSeq, UpdateKind.Message, message.ConversationId, message.Seq, message);

    private static UserConversation Entry(string conversationId, long lastSeq, long readSeq, params string[] members) =>
        new(new ConversationInfo(conversationId, ConversationKind.Direct, members, DateTimeOffset.UnixEpoch), lastSeq, readSeq, null);
}
