using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>Users' push outboxes: rows written with the pointers, their states, the overdue scan, pruning.</summary>
public abstract partial class StoreContract
{
    protected IPushOutboxStore Pushes => Storage.Pushes;

    private static PushRecord Row(ChatMessage m, long userSeq, long dueMs, PushState state = PushState.Pending) =>
        new(m.ConversationId, m.Seq, userSeq, m.SenderId, m.SentAt.ToUnixTimeMilliseconds(), state, dueMs, 0, null, null, 1_000, 1_000);

    [Fact]
    public async Task ReadPending_ReturnsThePendingRows_CommittedWithTheirPointers()
    {
        var c = await ConversationWithMessagesAsync(3);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0]), Pointer(2, m[1]), Pointer(3, m[2])], [],
            [Row(m[0], 1, 5_000), Row(m[1], 2, 6_000, PushState.Muted), Row(m[2], 3, 7_000)]);
        await ReopenAsync();

        Assert.Equal([Row(m[0], 1, 5_000), Row(m[2], 3, 7_000)], await Pushes.ReadPendingAsync("u-a"));
        Assert.Empty(await Pushes.ReadPendingAsync("u-b"));
        Assert.Equal([PushState.Pending, PushState.Muted, PushState.Pending], (await Pushes.ReadAsync("u-a", c, 0, 10)).Select(r => r.State));
    }

    [Fact]
    public async Task AppendUpdates_ThatConflicts_WritesNoPushRowEither()
    {
        var c = await ConversationWithMessagesAsync(2);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0])], []);

        await Assert.ThrowsAsync<StoreConflictException>(() => UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[1])], [], [Row(m[1], 1, 5_000)]));

        Assert.Empty(await Pushes.ReadPendingAsync("u-a"));
    }

    [Fact]
    public async Task Update_SavesStatesOfThatUsersRows_AndOnlyThose()
    {
        var c = await ConversationWithMessagesAsync(3);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0]), Pointer(2, m[1]), Pointer(3, m[2])], [],
            [Row(m[0], 1, 5_000), Row(m[1], 2, 5_000), Row(m[2], 3, 5_000)]);
        await UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, m[0])], [], [Row(m[0], 1, 5_000)]);

        var retried = Row(m[2], 3, 9_000) with { Attempts = 2, Targets = "[\"phone\",\"tab \\\"2\\\"\"]", Detail = "503 Service Unavailable", UpdatedMs = 8_000 };
        var collapsed = Row(m[0], 1, 5_000, PushState.Collapsed) with { Detail = "collapsed into the notification of seq 3", UpdatedMs = 8_000 };
        var sent = Row(m[1], 2, 5_000, PushState.Sent) with { Attempts = 1, UpdatedMs = 8_000 };
        await Pushes.UpdateAsync("u-a", [retried, collapsed, sent]);

        Assert.Equal([collapsed, sent, retried], await Pushes.ReadAsync("u-a", c, 0, 10));
        Assert.Equal([retried], await Pushes.ReadPendingAsync("u-a"));
        Assert.Equal([Row(m[0], 1, 5_000)], await Pushes.ReadPendingAsync("u-b")); // another user's row is untouched
    }

    [Fact]
    public async Task Read_PagesByConversationAndSeq()
    {
        var c = await ConversationWithMessagesAsync(3);
        var other = await ConversationWithMessagesAsync(1, "u-a", "u-c");
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        var o = await Conversations.ReadMessagesAsync(other, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0]), Pointer(2, o[0]), Pointer(3, m[1]), Pointer(4, m[2])], [],
            [Row(m[0], 1, 5_000), Row(o[0], 2, 5_000), Row(m[1], 3, 5_000), Row(m[2], 4, 5_000)]);

        Assert.Equal([2L, 3L], (await Pushes.ReadAsync("u-a", c, 1, 2)).Select(r => r.Seq));
        Assert.Equal([1L], (await Pushes.ReadAsync("u-a", other, 0, 10)).Select(r => r.Seq));
        Assert.Empty(await Pushes.ReadAsync("u-a", c, 3, 10));
    }

    [Fact]
    public async Task ListUsersDue_NamesEachUserWithAPendingRowDueByThen_Once()
    {
        var c = await ConversationWithMessagesAsync(2);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0]), Pointer(2, m[1])], [], [Row(m[0], 1, 5_000), Row(m[1], 2, 6_000)]);
        await UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, m[0])], [], [Row(m[0], 1, 9_000)]);
        await UserLogs.AppendUpdatesAsync("u-c", [Pointer(1, m[0])], [], [Row(m[0], 1, 1_000, PushState.Sent)]);

        Assert.Equal(["u-a"], await Pushes.ListUsersDueAsync(6_000, 10));
        Assert.Equal(["u-a", "u-b"], (await Pushes.ListUsersDueAsync(9_000, 10)).Order());
        Assert.Single(await Pushes.ListUsersDueAsync(9_000, 1));
        Assert.Empty(await Pushes.ListUsersDueAsync(4_999, 10));
    }

    [Fact]
    public async Task Prune_DeletesFinishedRowsOlderThanTheTime_NeverPendingOnes()
    {
        var c = await ConversationWithMessagesAsync(3);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0]), Pointer(2, m[1]), Pointer(3, m[2])], [],
            [Row(m[0], 1, 1_000, PushState.Sent), Row(m[1], 2, 1_000), Row(m[2], 3, 1_000, PushState.Delivered) with { UpdatedMs = 5_000 }]);

        Assert.Equal(1, await Pushes.PruneAsync(2_000));

        Assert.Equal([2L, 3L], (await Pushes.ReadAsync("u-a", c, 0, 10)).Select(r => r.Seq));
    }

    [Fact]
    public async Task DeleteUser_RemovesThePushOutboxToo()
    {
        var c = await ConversationWithMessagesAsync(1);
        var m = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        await UserLogs.AppendUpdatesAsync("u-a", [Pointer(1, m[0])], [], [Row(m[0], 1, 1_000)]);

        await UserLogs.DeleteUserAsync("u-a");

        Assert.Empty(await Pushes.ReadAsync("u-a", c, 0, 10));
        Assert.Empty(await Pushes.ListUsersDueAsync(long.MaxValue, 10));
    }
}
