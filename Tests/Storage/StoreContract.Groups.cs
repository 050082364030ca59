using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>Groups: membership events in the log, applied to the members and title by the same append.</summary>
public abstract partial class StoreContract
{
    private const string Group = "g:0193a0c4e1f27b3c8d9e0f1a2b3c4d5e";

    private async Task<string> NewGroupAsync()
    {
        await Conversations.CreateConversationAsync(new ConversationInfo(Group, ConversationKind.Group, [], T0, MemberCount: 0));
        return Group;
    }

    private static NewMessage Event(string sender, ConversationEvent e) => new(sender, $"event:{Guid.NewGuid():N}", "", T0, e);

    [Fact]
    public async Task CreateConversation_Group_HasNoMembersUntilItsCreatedEvent()
    {
        var g = await NewGroupAsync();

        var record = await Conversations.GetConversationAsync(g);

        Assert.Equal(ConversationKind.Group, record!.Info.Kind);
        Assert.Empty(record.Info.Members);
        Assert.Empty(record.Members);
        Assert.Null(record.Info.Title);
    }

    [Fact]
    public async Task AppendMessages_CreatedEvent_MakesTheMembersAndTitle_CreatorOwner()
    {
        var g = await NewGroupAsync();

        var results = await Conversations.AppendMessagesAsync(g, 0,
            [Event("u-a", new ConversationEvent(ConversationEventType.Created, ["u-a", "u-b", "u-c"], "Trip"))]);

        var committed = results[0].Message;
        Assert.Equal(1, committed.Seq);
        Assert.Equal(ConversationEventType.Created, committed.Event!.Type);
        var record = (await Conversations.GetConversationAsync(g))!;
        Assert.Equal("Trip", record.Info.Title);
        Assert.Equal(["u-a", "u-b", "u-c"], record.Info.Members);
        Assert.Equal(3, record.Info.MemberCount);
        Assert.Equal(["u-a"], record.Info.Owners);
        Assert.Empty(record.Info.Admins!);
        Assert.All(record.Members, m => Assert.Equal((1L, 0L), (m.JoinedSeq, m.LeftSeq)));
        // The event reads back as it was written, by every read.
        var read = Assert.Single(await Conversations.ReadMessagesAsync(g, 0, HistoryDirection.After, 10));
        Assert.Equal(ConversationEventType.Created, read.Event!.Type);
        Assert.Equal(["u-a", "u-b", "u-c"], read.Event.UserIds);
        Assert.Equal("Trip", read.Event.Title);
        Assert.Equal("", read.Text);
        Assert.Equal(ConversationEventType.Created, Assert.Single(await Conversations.ReadMessagesByKeyAsync([new MessageKey(g, 1)])).Event!.Type);
    }

    [Fact]
    public async Task AppendMessages_MembershipEventsInOneBatch_ApplyInOrderWithTheirSeqs()
    {
        var g = await NewGroupAsync();
        await Conversations.AppendMessagesAsync(g, 0, [Event("u-a", new ConversationEvent(ConversationEventType.Created, ["u-a", "u-b"], "One"))]);

        await Conversations.AppendMessagesAsync(g, 1,
        [
            Message("u-b", "m1", "hello"),
            Event("u-a", new ConversationEvent(ConversationEventType.MembersAdded, ["u-c", "u-d"])),
            Event("u-a", new ConversationEvent(ConversationEventType.RoleChanged, ["u-c"], Role: MemberRole.Admin)),
            Event("u-c", new ConversationEvent(ConversationEventType.MemberRemoved, ["u-b"])),
            Event("u-d", new ConversationEvent(ConversationEventType.MemberLeft, [])),
            Event("u-a", new ConversationEvent(ConversationEventType.Renamed, [], "Two")),
        ]);

        var record = (await Conversations.GetConversationAsync(g))!;
        Assert.Equal(7, record.LastSeq);
        Assert.Equal("Two", record.Info.Title);
        Assert.Equal(["u-a", "u-c"], record.Info.Members);
        Assert.Equal(["u-c"], record.Info.Admins);
        var members = record.Members.ToDictionary(m => m.UserId);
        Assert.Equal((1L, 5L), (members["u-b"].JoinedSeq, members["u-b"].LeftSeq));
        Assert.Equal((3L, 0L, MemberRole.Admin), (members["u-c"].JoinedSeq, members["u-c"].LeftSeq, members["u-c"].Role));
        Assert.Equal((3L, 6L), (members["u-d"].JoinedSeq, members["u-d"].LeftSeq));
    }

    [Fact]
    public async Task AppendMessages_FormerMemberAddedAgain_RejoinsAtTheNewSeq()
    {
        var g = await NewGroupAsync();
        await Conversations.AppendMessagesAsync(g, 0, [Event("u-a", new ConversationEvent(ConversationEventType.Created, ["u-a", "u-b"], "G"))]);
        await Conversations.AppendMessagesAsync(g, 1, [Event("u-a", new ConversationEvent(ConversationEventType.MemberRemoved, ["u-b"]))]);

        await Conversations.AppendMessagesAsync(g, 2, [Event("u-a", new ConversationEvent(ConversationEventType.MembersAdded, ["u-b"]))]);

        var bob = (await Conversations.GetConversationAsync(g))!.Members.Single(m => m.UserId == "u-b");
        Assert.Equal((3L, 0L, MemberRole.Member), (bob.JoinedSeq, bob.LeftSeq, bob.Role));
    }

    [Fact]
    public async Task AppendMessages_BatchRefusedAsConflict_AppliesNoneOfItsEvents()
    {
        var g = await NewGroupAsync();
        await Conversations.AppendMessagesAsync(g, 0, [Event("u-a", new ConversationEvent(ConversationEventType.Created, ["u-a", "u-b"], "G"))]);

        await Assert.ThrowsAsync<StoreConflictException>(() => Conversations.AppendMessagesAsync(g, 0,
            [Event("u-a", new ConversationEvent(ConversationEventType.MemberRemoved, ["u-b"]))]));

        Assert.Equal(["u-a", "u-b"], (await Conversations.GetConversationAsync(g))!.Info.Members);
    }

    [Fact]
    public async Task AppendUpdates_WithEntries_SavesThemInTheSameCall()
    {
        var g = await NewGroupAsync();
        var created = (await Conversations.AppendMessagesAsync(g, 0,
            [Event("u-a", new ConversationEvent(ConversationEventType.Created, ["u-a", "u-b"], "Trip"))]))[0].Message;
        var entry = new UserConversation(new ConversationInfo(g, ConversationKind.Group, [], T0, "Trip", 2), 1, 0, Left: true, MutedUntilMs: 1_800_000_000_000);

        await UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, created)], [entry]);

        var loaded = await UserLogs.LoadUserAsync("u-b");
        Assert.Equal(1, loaded.LastUserSeq);
        var saved = Assert.Single(loaded.Conversations);
        Assert.Equal((g, ConversationKind.Group, "Trip", 2, true), (saved.Conversation.ConversationId, saved.Conversation.Kind,
            saved.Conversation.Title, saved.Conversation.MemberCount, saved.Left));
        Assert.Empty(saved.Conversation.Members);
        Assert.Equal(1_800_000_000_000, saved.MutedUntilMs);
        Assert.Equal(0, loaded.CheckpointUserSeq); // the entries do not move the checkpoint
    }

    [Fact]
    public async Task AppendUpdates_ConflictWithEntries_SavesNoEntry()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        var message = (await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "hi")]))[0].Message;
        await UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, message)], []);
        var entry = new UserConversation(new ConversationInfo(c, ConversationKind.Direct, ["u-a", "u-b"], T0), 1, 0);

        await Assert.ThrowsAsync<StoreConflictException>(() => UserLogs.AppendUpdatesAsync("u-b", [Pointer(1, message)], [entry]));

        Assert.Empty((await UserLogs.LoadUserAsync("u-b")).Conversations);
    }

    [Fact]
    public async Task SaveReceipts_MovesPointersForwardOnly_AndIgnoresNonMembers()
    {
        var c = await NewConversationAsync("u-a", "u-b");

        await Conversations.SaveReceiptsAsync(c, [new MemberReceipts("u-b", 5, 3), new MemberReceipts("u-x", 9, 9)]);
        await Conversations.SaveReceiptsAsync(c, [new MemberReceipts("u-b", 4, 4)]);

        var members = (await Conversations.GetConversationAsync(c))!.Members.ToDictionary(m => m.UserId);
        Assert.Equal((5L, 4L), (members["u-b"].DeliveredSeq, members["u-b"].ReadSeq));
        Assert.Equal((0L, 0L), (members["u-a"].DeliveredSeq, members["u-a"].ReadSeq));
        Assert.Equal(2, members.Count);
    }

    [Fact]
    public async Task AppendUpdates_ReceiptsUpdate_ReadsBackWithItsCounts()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        IReadOnlyList<MessageReceipt> counts = [new MessageReceipt(1, 1, 0, 1), new MessageReceipt(2, 1, 1, 1)];

        await UserLogs.AppendUpdatesAsync("u-a", [new UpdatePointer(1, UpdateKind.Receipts, c, 2, false, counts)], []);

        var read = Assert.Single(await UserLogs.ReadUpdatesAsync("u-a", 0, 10));
        Assert.Equal((UpdateKind.Receipts, 2L), (read.Kind, read.Seq));
        Assert.Equal(counts, read.Receipts);
    }

    [Fact]
    public async Task SaveConversations_AnOlderEntry_DoesNotUndoTheMetadataOfANewerOne()
    {
        var g = await NewGroupAsync();
        var info = new ConversationInfo(g, ConversationKind.Group, [], T0, "Old", 3);
        await UserLogs.SaveConversationsAsync("u-b", [new UserConversation(info with { Title = "New", MemberCount = 2 }, 7, 0, Left: true)], 0);

        // A checkpoint taken before the leave was saved, written after it.
        await UserLogs.SaveConversationsAsync("u-b", [new UserConversation(info, 5, 5, Left: false)], 4);

        var saved = Assert.Single((await UserLogs.LoadUserAsync("u-b")).Conversations);
        Assert.Equal(("New", 2, true, 7L, 5L), (saved.Conversation.Title, saved.Conversation.MemberCount, saved.Left, saved.LastSeq, saved.ReadSeq));
    }
}
