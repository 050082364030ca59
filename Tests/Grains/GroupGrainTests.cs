using Messenger.Grains;

namespace Messenger.Tests.Grains;

/// <summary>Groups on the two-silo cluster: membership events in the log, join points, removal, roles.</summary>
public abstract class GroupGrainTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : GroupGrainTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : GroupGrainTests(cluster);

    private async Task<(IConversationGrain Group, GroupChange Created)> CreateAsync(UserProfile owner, string title, params UserProfile[] others)
    {
        var group = cluster.Client.GetGrain<IConversationGrain>(ConversationIds.NewGroup());
        var created = await group.CreateGroupAsync(owner.UserId, title, [.. others.Select(o => o.UserId)]);
        return (group, created);
    }

    [Fact]
    public async Task Create_CreatorOwnsIt_AndEveryMemberGetsTheCreatedEventFirst()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        await using var bobDevice = await cluster.AttachAsync(bob);

        var (group, created) = await CreateAsync(alice, "Trip", bob, carol);

        var info = created.Conversation;
        Assert.Equal(ConversationKind.Group, info.Kind);
        Assert.Equal("Trip", info.Title);
        Assert.Equal(new[] { alice.UserId, bob.UserId, carol.UserId }.Order(StringComparer.Ordinal), info.Members);
        Assert.Equal([alice.UserId], info.Owners);
        var ack = Assert.Single(created.Events);
        Assert.Equal((1L, ConversationEventType.Created), (ack.Message.Seq, ack.Message.Event!.Type));
        Assert.True(ack.UserSeq > 0);

        var pushed = Assert.Single(await bobDevice.WaitForCountAsync(1));
        Assert.Equal(ConversationEventType.Created, pushed.Message!.Event!.Type);
        var listed = Assert.Single(await cluster.User(bob).ListConversationsAsync());
        Assert.Equal((info.ConversationId, "Trip", 3, false), (listed.Conversation.ConversationId, listed.Conversation.Title, listed.Conversation.MemberCount, listed.Left));
        Assert.Empty(listed.Conversation.Members); // a group's list entry keeps no member list
        AssertSameInfo(info, await group.GetInfoAsync(carol.UserId));
    }

    [Fact]
    public async Task AddedMember_SeesTheLogFromTheirJoin_AndEveryMemberSeesTheAddAtTheSameSeq()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var (group, _) = await CreateAsync(alice, "Team", bob);
        await group.SendAsync(bob.UserId, "b1", "before carol");

        var added = await group.AddMembersAsync(alice.UserId, [carol.UserId]);
        var after = await group.SendAsync(carol.UserId, "c1", "hi all");

        var addSeq = Assert.Single(added.Events).Message.Seq;
        Assert.Equal(3, addSeq);
        Assert.Equal(4, after.Message.Seq);
        var carolsHistory = await group.GetHistoryAsync(carol.UserId, long.MaxValue, HistoryDirection.Before, 50);
        Assert.Equal([3L, 4L], carolsHistory.Messages.Select(m => m.Seq));
        Assert.False(carolsHistory.HasMore);
        Assert.Equal([3L, 4L], (await group.GetHistoryAsync(carol.UserId, 0, HistoryDirection.After, 50)).Messages.Select(m => m.Seq));
        var bobsLog = await WaitForLogAsync(bob, 4);
        Assert.Equal([1L, 2L, 3L, 4L], bobsLog.Select(u => u.Seq));
        Assert.Equal(ConversationEventType.MembersAdded, bobsLog[2].Message!.Event!.Type);
        Assert.Equal([carol.UserId], bobsLog[2].Message!.Event!.UserIds);
        Assert.Equal([3L, 4L], (await WaitForLogAsync(carol, 2)).Select(u => u.Seq));
    }

    [Fact]
    public async Task RemovedMember_GetsTheLogUpToTheirRemoval_IsRefusedAfter_AndKeepsTheGroupAsLeft()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var (group, _) = await CreateAsync(alice, "Team", bob, carol);

        var removed = await group.RemoveMemberAsync(alice.UserId, carol.UserId);
        await group.SendAsync(alice.UserId, "a1", "carol cannot see this");

        Assert.DoesNotContain(carol.UserId, removed.Conversation.Members);
        Assert.Equal([1L, 2L, 3L], (await WaitForLogAsync(bob, 3)).Select(u => u.Seq));
        var carolsLog = await WaitForLogAsync(carol, 2);
        Assert.Equal([1L, 2L], carolsLog.Select(u => u.Seq)); // up to and with the removal, never the message after it
        Assert.Equal(ConversationEventType.MemberRemoved, carolsLog[1].Message!.Event!.Type);
        Assert.Equal(ErrorCode.NotMember, (await Assert.ThrowsAsync<MessengerException>(() => group.SendAsync(carol.UserId, "c1", "let me in"))).Code);
        Assert.Equal(ErrorCode.NotMember,
            (await Assert.ThrowsAsync<MessengerException>(() => group.GetHistoryAsync(carol.UserId, long.MaxValue, HistoryDirection.Before, 50))).Code);
        var listed = Assert.Single(await cluster.User(carol).ListConversationsAsync());
        Assert.True(listed.Left);
        Assert.Equal(2, listed.LastSeq);
        // Her log is final: a barrier (bob has seq 3) passed, and nothing past her removal arrived.
        Assert.Equal(2, (await cluster.User(carol).SyncAsync(0, 100)).Updates.Count);
    }

    [Fact]
    public async Task BadCommands_AreRefusedWithTheirCodes_AndChangeNothing()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var (group, created) = await CreateAsync(alice, "Team", bob);

        async Task<ErrorCode> Refused(Func<Task> command) => (await Assert.ThrowsAsync<MessengerException>(command)).Code;

        Assert.Equal(ErrorCode.NotAdmin, await Refused(() => group.AddMembersAsync(bob.UserId, [carol.UserId])));
        Assert.Equal(ErrorCode.NotMember, await Refused(() => group.AddMembersAsync(carol.UserId, [carol.UserId])));
        Assert.Equal(ErrorCode.UserNotFound, await Refused(() => group.AddMembersAsync(alice.UserId, [UserIds.New()])));
        Assert.Equal(ErrorCode.AlreadyMember, await Refused(() => group.AddMembersAsync(alice.UserId, [bob.UserId])));
        Assert.Equal(ErrorCode.MemberNotFound, await Refused(() => group.RemoveMemberAsync(alice.UserId, carol.UserId)));
        Assert.Equal(ErrorCode.LastOwner, await Refused(() => group.SetRoleAsync(alice.UserId, alice.UserId, MemberRole.Member)));
        Assert.Equal(ErrorCode.InvalidRequest, await Refused(() => group.RenameAsync(alice.UserId, "  ")));
        Assert.Equal(ErrorCode.NotAdmin, await Refused(() => group.RenameAsync(bob.UserId, "Mine")));
        Assert.Equal(ErrorCode.UserNotFound, await Refused(() =>
            cluster.Client.GetGrain<IConversationGrain>(ConversationIds.NewGroup()).CreateGroupAsync(alice.UserId, "X", [UserIds.New()])));

        AssertSameInfo(created.Conversation, await group.GetInfoAsync(alice.UserId));
        Assert.Equal(1, (await group.GetHistoryAsync(alice.UserId, long.MaxValue, HistoryDirection.Before, 50)).LastSeq);
    }

    [Fact]
    public async Task LastOwnerLeaving_HandsOwnershipOn_AndAFormerMemberCanBeAddedBack()
    {
        var (alice, bob, carol) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var (group, _) = await CreateAsync(alice, "Team", bob, carol);
        await group.SetRoleAsync(alice.UserId, carol.UserId, MemberRole.Admin);

        var left = await group.LeaveAsync(alice.UserId);

        Assert.Equal([ConversationEventType.RoleChanged, ConversationEventType.MemberLeft], left.Events.Select(e => e.Message.Event!.Type));
        Assert.Equal([carol.UserId], left.Conversation.Owners);
        Assert.True(Assert.Single(await cluster.User(alice).ListConversationsAsync()).Left);

        await WaitForLogAsync(alice, 4); // her membership is delivered to its end before she may rejoin
        var back = await group.AddMembersAsync(carol.UserId, [alice.UserId]);

        Assert.Contains(alice.UserId, back.Conversation.Members);
        var alicesLog = await WaitForLogAsync(alice, 5);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], alicesLog.Select(u => u.Seq));
        Assert.False(Assert.Single(await cluster.User(alice).ListConversationsAsync()).Left);
        Assert.Equal([5L], (await group.GetHistoryAsync(alice.UserId, long.MaxValue, HistoryDirection.Before, 50)).Messages.Select(m => m.Seq));
    }

    [Fact]
    public async Task GroupMembers_AreContacts_ForPresence()
    {
        var (alice, bob, stranger) = (await cluster.NewUserAsync(), await cluster.NewUserAsync(), await cluster.NewUserAsync());
        await CreateAsync(alice, "Team", bob);
        await WaitForLogAsync(alice, 1);

        await cluster.User(alice).CheckContactsAsync([bob.UserId]);
        var error = await Assert.ThrowsAsync<MessengerException>(() => cluster.User(alice).CheckContactsAsync([bob.UserId, stranger.UserId]));

        Assert.Equal(ErrorCode.NotContact, error.Code);
    }

    [Fact]
    public async Task Mute_ShowsInTheList_ReachesEveryDevice_AndUnmutes()
    {
        var (alice, bob) = (await cluster.NewUserAsync(), await cluster.NewUserAsync());
        var (group, _) = await CreateAsync(alice, "Noisy", bob);
        await WaitForLogAsync(bob, 1);
        await using var bobsOtherDevice = await cluster.AttachAsync(bob, "bob-tablet");
        var id = group.GetPrimaryKeyString();
        var until = DateTimeOffset.UtcNow.AddHours(8);

        var muted = await cluster.User(bob).SetMuteAsync(id, true, until);
        var again = await cluster.User(bob).SetMuteAsync(id, true, until); // nothing changes: no second update

        Assert.Equal(until.ToUnixTimeMilliseconds(), muted!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(muted, again);
        Assert.Equal(muted, Assert.Single(await cluster.User(bob).ListConversationsAsync()).MutedUntil);
        var pushed = await bobsOtherDevice.WaitForCountAsync(1);
        Assert.Equal((UpdateKind.Mute, until.ToUnixTimeMilliseconds()), (pushed[0].Kind, pushed[0].Seq));
        Assert.Equal(Mutes.Forever, await cluster.User(bob).SetMuteAsync(id, true, null));
        Assert.Null(await cluster.User(bob).SetMuteAsync(id, false, null));
        Assert.Null(Assert.Single(await cluster.User(bob).ListConversationsAsync()).MutedUntil);
        Assert.Equal(3, (await bobsOtherDevice.WaitForCountAsync(3)).Count(u => u.Kind == UpdateKind.Mute));
        Assert.Null(Assert.Single(await cluster.User(alice).ListConversationsAsync()).MutedUntil); // per user
        Assert.Equal(ErrorCode.OutOfRange,
            (await Assert.ThrowsAsync<MessengerException>(() => cluster.User(bob).SetMuteAsync(id, true, DateTimeOffset.UtcNow.AddMinutes(-1)))).Code);
        Assert.Equal(ErrorCode.NotMember,
            (await Assert.ThrowsAsync<MessengerException>(() => cluster.User(bob).SetMuteAsync(ConversationIds.NewGroup(), true, null))).Code);
    }

    private static void AssertSameInfo(ConversationInfo expected, ConversationInfo actual)
    {
        Assert.Equal((expected.ConversationId, expected.Kind, expected.CreatedAt, expected.Title, expected.MemberCount),
            (actual.ConversationId, actual.Kind, actual.CreatedAt, actual.Title, actual.MemberCount));
        Assert.Equal(expected.Members, actual.Members);
        Assert.Equal(expected.Owners, actual.Owners);
        Assert.Equal(expected.Admins, actual.Admins);
    }

    /// <summary>The messages of the user's log once it holds <paramref name="count"/> (receipts updates of their own messages may come between).</summary>
    private async Task<IReadOnlyList<UserUpdate>> WaitForLogAsync(UserProfile user, int count) =>
        [.. (await cluster.WaitForLogAsync(user, count, [UpdateKind.Message])).Where(u => u.Kind == UpdateKind.Message)];
}
