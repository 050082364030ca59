using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Groups through the .NET SDK against the real gateway process: the commands over the socket, over REST and
/// over long-poll; the membership events reach every member's devices as updates in one order, a removed
/// member gets the removal and nothing after, and refusals surface as <see cref="MessengerClientException"/> codes.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GroupClientTests(SqliteServerFixture fixture)
{
    private Uri Url => fixture.Url;

    [Fact]
    public async Task OverTheSocket_CreateAddRemoveLeave_EveryMemberGetsTheEventsInOneOrder_TheRemovedOneNothingAfter()
    {
        var (alice, bob, carol, dave) = await FourUsersAsync();
        await using var a = await Chat.ConnectAsync(Url, alice.Sessions[0]);
        await using var b = await Chat.ConnectAsync(Url, bob.Sessions[0]);
        await using var c = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        await using var d = await Chat.ConnectAsync(Url, dave.Sessions[0]);

        var created = await a.CreateGroupAsync("Climbing", [bob.Id, carol.Id]);
        var group = created.Conversation.ConversationId;
        Assert.Matches("^g:[0-9a-f]{32}$", group);
        Assert.Equal(("group", "Climbing", 3), (created.Conversation.Kind, created.Conversation.Title, created.Conversation.MemberCount));
        Assert.Equal([alice.Id], created.Conversation.Owners!);
        Assert.Equal(1, Assert.Single(created.Events).Seq);
        var added = await a.AddMembersAsync(group, [dave.Id]);
        Assert.Equal((4, 2L), (added.Conversation.MemberCount, Assert.Single(added.Events).Seq));
        await b.SendAsync(group, "hello all");
        Assert.Equal(4, Assert.Single((await a.RemoveMemberAsync(group, carol.Id)).Events).Seq);
        await a.SendAsync(group, "without Carol");
        var left = await b.LeaveGroupAsync(group);
        Assert.Equal((2, 6L), (left.Conversation.MemberCount, Assert.Single(left.Events).Seq));

        string[] all = ["1:created", "2:members_added", "3:hello all", "4:member_removed", "5:without Carol", "6:member_left"];
        var views = await Task.WhenAll(
            Chat.CollectMessagesAsync(a, group, 6), Chat.CollectMessagesAsync(b, group, 6),
            Chat.CollectMessagesAsync(c, group, 4), Chat.CollectMessagesAsync(d, group, 5));
        Assert.Equal(all, Entries(views[0], group));
        Assert.Equal(all, Entries(views[1], group));
        Assert.Equal(all[..4], Entries(views[2], group)); // Carol: up to her removal
        Assert.Equal(all[1..], Entries(views[3], group)); // Dave: from the event that added him
        foreach (var view in views) Chat.AssertGapless(view);
        var creation = views[0][0].Message!;
        Assert.Equal((alice.Id, "", GroupEventTypes.Created, "Climbing"), (creation.SenderId, creation.Text, creation.Event!.Type, creation.Event.Title));
        Assert.Equal([alice.Id, bob.Id, carol.Id], creation.Event.UserIds);
        var removal = views[2][^1].Message!.Event!;
        Assert.Equal((GroupEventTypes.MemberRemoved, (string?)null, (string?)null), (removal.Type, removal.Title, removal.Role));
        Assert.Equal([carol.Id], removal.UserIds);
        Assert.Null(views[0].Single(u => u.Seq == 3).Message!.Event);

        // Nothing after the removal reaches Carol; the group refuses her.
        await a.SendAsync(group, "after everything");
        await Chat.CollectMessagesAsync(d, group, 1);
        Assert.Equal([1L, 2, 3, 4], (await c.SyncAsync(0)).Updates.Where(u => u.ConversationId == group).Select(u => u.Seq));
        Assert.False(c.Updates.TryRead(out var late), $"Carol got {late}");
        Assert.Equal("not_member", (await Assert.ThrowsAsync<MessengerClientException>(() => c.SendAsync(group, "let me in"))).Code);

        // In the list a group has a title and a count, no member list; one the user is out of says so.
        using var carolHttp = Chat.Http(Url, carol.Sessions[0]);
        var summary = Assert.Single(await carolHttp.ListConversationsAsync(), s => s.ConversationId == group);
        Assert.Equal(("group", (IReadOnlyList<string>?)null, "Climbing", true, 4L), (summary.Kind, summary.Members, summary.Title, summary.Left, summary.LastSeq));
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        summary = Assert.Single(await aliceHttp.ListConversationsAsync(), s => s.ConversationId == group);
        Assert.Equal((false, 2, 7L), (summary.Left, summary.MemberCount, summary.LastSeq));
    }

    [Fact]
    public async Task OverRestAndLongPoll_TheCommandsWork_AndRefusalsCarryTheirCodes()
    {
        var (alice, bob, carol, dave) = await FourUsersAsync();
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        // Bob follows over long-poll (his requests go over REST there); Carol and Dave over sockets.
        await using var b = await MessengerClient.ConnectAsync(Url, (await LoginAsync(bob, "bob-poller")).Token,
            new MessengerClientOptions { Transport = ClientTransport.LongPoll });
        await using var c = await Chat.ConnectAsync(Url, carol.Sessions[0]);
        await using var d = await Chat.ConnectAsync(Url, dave.Sessions[0]);
        Assert.Equal(ClientTransport.LongPoll, b.ActiveTransport);

        var created = await aliceHttp.CreateGroupAsync("Book club", [bob.Id, carol.Id]);
        var group = created.Conversation.ConversationId;
        Assert.Equal(new[] { alice.Id, bob.Id, carol.Id }.Order(StringComparer.Ordinal), created.Conversation.Members.Order(StringComparer.Ordinal));
        Assert.Equal(1, Assert.Single(created.Events).Seq);

        await AssertRefusedAsync("not_admin", 403, () => bobHttp.AddMembersAsync(group, [dave.Id]));
        await AssertRefusedAsync("not_admin", 403, () => b.AddMembersAsync(group, [dave.Id])); // long-poll: over REST
        await AssertRefusedAsync("not_admin", null, () => c.RenameGroupAsync(group, "Carol's")); // socket: no HTTP status
        await AssertRefusedAsync("already_member", 409, () => aliceHttp.AddMembersAsync(group, [carol.Id]));
        await AssertRefusedAsync("member_not_found", 404, () => aliceHttp.RemoveMemberAsync(group, dave.Id));
        await AssertRefusedAsync("last_owner", 409, () => aliceHttp.SetRoleAsync(group, alice.Id, GroupRoles.Admin));
        await AssertRefusedAsync("user_not_found", 404, () => aliceHttp.AddMembersAsync(group, ["u0123456789abcdef0123456789abcdef"]));
        await AssertRefusedAsync("invalid_request", 400, () => aliceHttp.CreateGroupAsync("", [bob.Id]));
        var direct = await Chat.OpenDirectAsync(Url, alice, bob);
        await AssertRefusedAsync("not_group", 400, () => aliceHttp.AddMembersAsync(direct, [carol.Id]));

        Assert.Equal(2, Assert.Single((await aliceHttp.AddMembersAsync(group, [dave.Id])).Events).Seq);
        Assert.Equal(3, Assert.Single((await aliceHttp.RemoveMemberAsync(group, carol.Id)).Events).Seq);
        Assert.Equal("Reading club", (await aliceHttp.RenameGroupAsync(group, "Reading club")).Conversation.Title);
        Assert.Equal([bob.Id], (await aliceHttp.SetRoleAsync(group, bob.Id, GroupRoles.Admin)).Conversation.Admins!);
        Assert.Empty((await aliceHttp.SetRoleAsync(group, bob.Id, GroupRoles.Admin)).Events); // nothing to change
        await AssertRefusedAsync("not_owner", 403, () => bobHttp.SetRoleAsync(group, dave.Id, GroupRoles.Owner));
        var renamed = await b.RenameGroupAsync(group, "Readers"); // over long-poll
        Assert.Equal(("Readers", 6L), (renamed.Conversation.Title, Assert.Single(renamed.Events).Seq));
        Assert.Equal(7, Assert.Single((await b.LeaveGroupAsync(group)).Events).Seq);
        await AssertRefusedAsync("not_member", 403, () => bobHttp.LeaveGroupAsync(group));
        // The last owner leaving hands the role on first: to Dave, the only one left.
        var ownerLeft = await aliceHttp.LeaveGroupAsync(group);
        Assert.Equal([8L, 9], ownerLeft.Events.Select(e => e.Seq));
        Assert.Equal([dave.Id], ownerLeft.Conversation.Owners!);
        Assert.Equal(1, ownerLeft.Conversation.MemberCount);

        string[] all = ["1:created", "2:members_added", "3:member_removed", "4:renamed", "5:role_changed", "6:renamed", "7:member_left",
            "8:role_changed", "9:member_left"];
        var bobView = await Chat.CollectMessagesAsync(b, group, 7);
        Assert.Equal(all[..7], Entries(bobView, group));
        var daveView = await Chat.CollectMessagesAsync(d, group, 8);
        Assert.Equal(all[1..], Entries(daveView, group));
        var carolView = await Chat.CollectMessagesAsync(c, group, 3);
        Assert.Equal(all[..3], Entries(carolView, group));
        foreach (var view in new[] { bobView, daveView, carolView }) Chat.AssertGapless(view);
        var handOver = daveView.Single(u => u.Seq == 8).Message!;
        Assert.Equal((alice.Id, GroupEventTypes.RoleChanged, GroupRoles.Owner), (handOver.SenderId, handOver.Event!.Type, handOver.Event.Role));
        Assert.Equal([dave.Id], handOver.Event.UserIds);
        Assert.Equal("Readers", daveView.Single(u => u.Seq == 6).Message!.Event!.Title);

        using var daveHttp = Chat.Http(Url, dave.Sessions[0]);
        var info = await daveHttp.GetConversationAsync(group);
        Assert.Equal(("Readers", 1, "group"), (info.Title, info.MemberCount, info.Kind));
        Assert.Equal([dave.Id], info.Members);
        Assert.Equal([dave.Id], info.Owners!);
        Assert.Empty(info.Admins!);
        var summaries = await aliceHttp.ListConversationsAsync();
        Assert.True(Assert.Single(summaries, s => s.ConversationId == group).Left);
        var directSummary = Assert.Single(summaries, s => s.ConversationId == direct);
        Assert.Equal(("direct", 2, (string?)null, false), (directSummary.Kind, directSummary.MemberCount, directSummary.Title, directSummary.Left));
        Assert.Equal(new[] { alice.Id, bob.Id }.Order(StringComparer.Ordinal), directSummary.Members!);
    }

    private async Task<(ChatUser, ChatUser, ChatUser, ChatUser)> FourUsersAsync()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Chat.NewUserAsync(Url)));
        return (users[0], users[1], users[2], users[3]);
    }

    private async Task<Session> LoginAsync(ChatUser user, string deviceId)
    {
        using var http = new MessengerHttpClient(Url);
        return await http.LoginAsync(user.Username, user.Password, deviceId);
    }

    /// <summary>A conversation's entries among updates: <c>seq:type</c> for events, <c>seq:text</c> for messages.</summary>
    private static string[] Entries(IEnumerable<Update> updates, string conversationId) =>
        [.. updates.Where(u => u.Kind == "message" && u.ConversationId == conversationId).Select(u => $"{u.Seq}:{u.Message!.Event?.Type ?? u.Message.Text}")];

    private static async Task AssertRefusedAsync(string code, int? status, Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<MessengerClientException>(call);
        Assert.Equal((code, status), (refused.Code, refused.HttpStatus));
    }
}
