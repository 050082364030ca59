using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>User update logs, conversation-list checkpoints, last seen, and concurrent writers.</summary>
public abstract partial class StoreContract
{
    [Fact]
    public async Task AppendUpdates_ThenReadUpdates_ReturnsThePointersAsWritten()
    {
        var c = await ConversationWithMessagesAsync(2);
        var messages = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);

        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, messages[0], fromSelf: true), Pointer(2, messages[1]), ReadMark(3, c, 2)], []);

        var updates = await UserLogs.ReadUpdatesAsync("u-a", 0, 10);
        Assert.Equal(
            [
                new UpdatePointer(1, UpdateKind.Message, c, 1, FromSelf: true),
                new UpdatePointer(2, UpdateKind.Message, c, 2, FromSelf: false),
                new UpdatePointer(3, UpdateKind.Read, c, 2, FromSelf: true),
            ],
            updates);
    }

    [Fact]
    public async Task ReadUpdates_ReturnsUpdatesAfterCursorUpToLimitForThatUserOnly()
    {
        var c = await ConversationWithMessagesAsync(6);
        var messages = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", messages.Select((m, i) => Pointer(i + 1, m)).ToList(), []);
        await UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, messages[0])], []);

        Assert.Equal([3L, 4L, 5L], (await UserLogs.ReadUpdatesAsync("u-a", 2, 3)).Select(u => u.UserSeq));
        Assert.Equal([6L], (await UserLogs.ReadUpdatesAsync("u-a", 5, 3)).Select(u => u.UserSeq));
        Assert.Empty(await UserLogs.ReadUpdatesAsync("u-a", 6, 3));
        Assert.Equal([1L], (await UserLogs.ReadUpdatesAsync("u-b", 0, 10)).Select(u => u.UserSeq));
    }

    [Fact]
    public async Task AppendUpdates_TakenUserSeq_ThrowsConflictAndWritesNothingOfThatCall()
    {
        var c = await ConversationWithMessagesAsync(3);
        var messages = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, messages[0]), Pointer(2, messages[1])], []);

        // userSeq 3 is free but 2 is taken: the whole call must fail, 3 included.
        await Assert.ThrowsAsync<StoreConflictException>(() => UserLogs.AppendUpdatesAsync("u-a",
            [Pointer(3, messages[2]), ReadMark(2, c, 1)], []));

        Assert.Equal([1L, 2L], (await UserLogs.ReadUpdatesAsync("u-a", 0, 10)).Select(u => u.UserSeq));
        Assert.Equal(2, (await UserLogs.LoadUserAsync("u-a")).LastUserSeq);
        Assert.Equal(0, await UserLogs.FindUserSeqAsync("u-a", c, 3));
    }

    [Fact]
    public async Task LoadUser_UnknownUser_ReturnsZeroAndNoConversations()
    {
        var user = await UserLogs.LoadUserAsync("u-nobody");

        Assert.Equal(0, user.LastUserSeq);
        Assert.Equal(0, user.CheckpointUserSeq);
        Assert.Empty(user.Conversations);
        Assert.Null(user.LastSeen);
    }

    [Fact]
    public async Task LoadUser_ReturnsLastUserSeqCheckpointAndSavedEntriesWithMembers()
    {
        var active = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var quiet = await NewConversationAsync("u-a", "u-c");
        var messages = await Conversations.ReadMessagesAsync(active, 0, HistoryDirection.After, 10);
        await UserLogs.SaveConversationsAsync("u-a", [Entry(quiet, 0, 0, "u-a", "u-c")], 0);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, messages[0], fromSelf: true), Pointer(2, messages[1])], []);
        await UserLogs.SaveConversationsAsync("u-a", [Entry(active, 2, 1, "u-b", "u-a")], 2);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(3, messages[2], fromSelf: true)], []);

        var user = await UserLogs.LoadUserAsync("u-a");

        Assert.Equal(3, user.LastUserSeq);
        Assert.Equal(2, user.CheckpointUserSeq);
        Assert.Equal(2, user.Conversations.Count);
        var a = Assert.Single(user.Conversations, e => e.Conversation.ConversationId == active);
        Assert.Equal((2L, 1L), (a.LastSeq, a.ReadSeq));
        Assert.Equal(ConversationKind.Direct, a.Conversation.Kind);
        Assert.Equal(["u-a", "u-b"], a.Conversation.Members);
        Assert.Equal(T0, a.Conversation.CreatedAt);
        var q = Assert.Single(user.Conversations, e => e.Conversation.ConversationId == quiet);
        Assert.Equal((0L, 0L), (q.LastSeq, q.ReadSeq));
        Assert.Equal(["u-a", "u-c"], q.Conversation.Members);
    }

    [Fact]
    public async Task SaveConversations_NeverMovesMarksOrTheCheckpointBack()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await UserLogs.SaveConversationsAsync("u-a", [Entry(c, 5, 4)], 7);

        await UserLogs.SaveConversationsAsync("u-a", [Entry(c, 3, 6)], 2);

        var user = await UserLogs.LoadUserAsync("u-a");
        var entry = Assert.Single(user.Conversations);
        Assert.Equal((5L, 6L), (entry.LastSeq, entry.ReadSeq));
        Assert.Equal(7, user.CheckpointUserSeq);
    }

    [Fact]
    public async Task SaveConversations_WithZeroCheckpoint_SavesEntriesAndKeepsTheCheckpoint()
    {
        var c1 = await NewConversationAsync("u-a", "u-b");
        var c2 = await NewConversationAsync("u-a", "u-c");
        await UserLogs.SaveConversationsAsync("u-a", [Entry(c1, 1, 1)], 4);

        await UserLogs.SaveConversationsAsync("u-a", [Entry(c2, 0, 0)], 0);

        var user = await UserLogs.LoadUserAsync("u-a");
        Assert.Equal(4, user.CheckpointUserSeq);
        Assert.Equal(Sorted([c1, c2]), Sorted(user.Conversations.Select(e => e.Conversation.ConversationId)));
    }

    [Fact]
    public async Task FindUserSeq_DeliveredMessage_ReturnsItsUserSeqOtherwiseZero()
    {
        var c = await ConversationWithMessagesAsync(2);
        var messages = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [ReadMark(1, c, 1), Pointer(2, messages[1])], []);

        Assert.Equal(2, await UserLogs.FindUserSeqAsync("u-a", c, 2));
        Assert.Equal(0, await UserLogs.FindUserSeqAsync("u-a", c, 1)); // only a read mark points at seq 1
        Assert.Equal(0, await UserLogs.FindUserSeqAsync("u-b", c, 2));
    }

    [Fact]
    public async Task SetLastSeen_IsLoadedBackAndOverwritten()
    {
        await UserLogs.SetLastSeenAsync("u-a", T0);
        Assert.Equal(T0, (await UserLogs.LoadUserAsync("u-a")).LastSeen);

        await UserLogs.SetLastSeenAsync("u-a", T0.AddMinutes(5));
        await UserLogs.SaveConversationsAsync("u-a", [], 3);

        var user = await UserLogs.LoadUserAsync("u-a");
        Assert.Equal(T0.AddMinutes(5), user.LastSeen);
        Assert.Equal(3, user.CheckpointUserSeq);
        Assert.Null((await UserLogs.LoadUserAsync("u-b")).LastSeen);
    }

    [Fact]
    public async Task RecordSeen_MovesLastSeenOfUsersWhoHaveOne_AndRecordsNoneForOthers()
    {
        // Users spread over partitions (in a partitioned store, over databases); one has only a checkpoint, one nothing.
        var seen = Enumerable.Range(0, 20).Select(i => $"u-seen-{i}").ToArray();
        foreach (var user in seen) await UserLogs.SetLastSeenAsync(user, T0);
        await UserLogs.SaveConversationsAsync("u-checkpoint-only", [], 2);

        await UserLogs.RecordSeenAsync([.. seen, "u-checkpoint-only", "u-never"], T0.AddMinutes(1));

        foreach (var user in seen) Assert.Equal(T0.AddMinutes(1), (await UserLogs.LoadUserAsync(user)).LastSeen);
        var checkpointOnly = await UserLogs.LoadUserAsync("u-checkpoint-only");
        Assert.Null(checkpointOnly.LastSeen);
        Assert.Equal(2, checkpointOnly.CheckpointUserSeq);
        Assert.Null((await UserLogs.LoadUserAsync("u-never")).LastSeen);

        // A deleted user stays deleted: nothing is recorded for them again.
        await UserLogs.DeleteUserAsync(seen[0]);
        await UserLogs.RecordSeenAsync([seen[0]], T0.AddMinutes(2));
        Assert.Null((await UserLogs.LoadUserAsync(seen[0])).LastSeen);
        await UserLogs.RecordSeenAsync([], T0.AddMinutes(3));
        Assert.Equal(T0.AddMinutes(1), (await UserLogs.LoadUserAsync(seen[1])).LastSeen);
    }

    [Fact]
    public async Task ConcurrentWrites_FromManyConversationsAndUsers_AllCommitAndSurviveReopen()
    {
        const int conversations = 50;
        var ids = new string[conversations];
        for (var i = 0; i < conversations; i++) ids[i] = ConversationIds.Direct("u-hub", $"u-{i:D2}");
        await Task.WhenAll(ids.Select(id =>
            Conversations.CreateConversationAsync(new ConversationInfo(id, ConversationKind.Direct, [], DateTimeOffset.UnixEpoch))));

        var firstRound = await Task.WhenAll(ids.Select((id, i) => Conversations.AppendMessagesAsync(id, 0,
            [Message($"u-{i:D2}", "m1", $"first {i}"), Message("u-hub", "m1", $"second {i}")])));
        var secondRound = await Task.WhenAll(ids.Select((id, i) => Conversations.AppendMessagesAsync(id, 2,
            [Message($"u-{i:D2}", "m2", $"third {i}")])));
        await Task.WhenAll(ids.Select((id, i) => UserLogs.AppendUpdatesAsync($"u-{i:D2}",
            [Pointer(1, firstRound[i][0].Message, true), Pointer(2, firstRound[i][1].Message), Pointer(3, secondRound[i][0].Message, true)], [])));

        await ReopenAsync();

        for (var i = 0; i < conversations; i++)
        {
            Assert.Equal(3, (await Conversations.GetConversationAsync(ids[i]))!.LastSeq);
            Assert.Equal([$"first {i}", $"second {i}", $"third {i}"],
                (await Conversations.ReadMessagesAsync(ids[i], 0, HistoryDirection.After, 10)).Select(m => m.Text));
            var user = await UserLogs.LoadUserAsync($"u-{i:D2}");
            Assert.Equal(3, user.LastUserSeq);
            var pointers = await UserLogs.ReadUpdatesAsync($"u-{i:D2}", 0, 10);
            var bodies = await Conversations.ReadMessagesByKeyAsync(pointers.Select(p => new MessageKey(p.ConversationId, p.Seq)).ToList());
            Assert.Equal($"third {i}", bodies[^1].Text);
        }
    }

    [Fact]
    public async Task DeleteUser_RemovesTheLogTheListAndLastSeen_OfThatUserOnly()
    {
        var c = await ConversationWithMessagesAsync(2, "u-a", "u-b");
        var messages = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        foreach (var user in (string[])["u-a", "u-b"])
        {
            await UserLogs.AppendUpdatesAsync(user, [Pointer(1, messages[0]), Pointer(2, messages[1])], []);
            await UserLogs.SaveConversationsAsync(user, [Entry(c, 2, 1)], 2);
            await UserLogs.SetLastSeenAsync(user, T0);
        }

        await UserLogs.DeleteUserAsync("u-a");
        await UserLogs.DeleteUserAsync("u-a");

        var deleted = await UserLogs.LoadUserAsync("u-a");
        Assert.Equal((0L, 0L, 0, (DateTimeOffset?)null), (deleted.LastUserSeq, deleted.CheckpointUserSeq, deleted.Conversations.Count, deleted.LastSeen));
        Assert.Empty(await UserLogs.ReadUpdatesAsync("u-a", 0, 10));
        Assert.Equal(0, await UserLogs.FindUserSeqAsync("u-a", c, 1));
        var kept = await UserLogs.LoadUserAsync("u-b");
        Assert.Equal((2L, 2L, 1, (DateTimeOffset?)T0), (kept.LastUserSeq, kept.CheckpointUserSeq, kept.Conversations.Count, kept.LastSeen));
        Assert.Equal(2, (await Conversations.GetConversationAsync(c))!.LastSeq); // the conversation's log is not the user's
    }

    private static UserConversation Entry(string conversationId, long lastSeq, long readSeq, params string[] members) =>
        new(new ConversationInfo(conversationId, ConversationKind.Direct, members.Length == 0 ? ["u-a", "u-b"] : Sorted(members), T0), lastSeq, readSeq);
}
