using Messenger.Grains;
using Messenger.Grains.Conversations;

namespace Messenger.Tests.Units;

/// <summary>A group's rules, on the plain class the conversation grain checks every command with.</summary>
public sealed class ConversationMembersTests
{
    private static ConversationMembers NewGroup(int maxMembers = 5)
    {
        var members = new ConversationMembers(ConversationKind.Group, null, [], maxMembers, maxTitleLength: 10);
        members.Create("owner", "Team", ["admin", "member"]);
        members.SetRole("owner", "admin", MemberRole.Admin);
        return members;
    }

    private static ErrorCode Refusal(Action command) => Assert.Throws<MessengerException>(command).Code;

    [Fact]
    public void Create_MakesTheCreatorOwner_AndTrimsTheTitle()
    {
        var members = new ConversationMembers(ConversationKind.Group, null, [], 5, 10);

        var e = members.Create("a", "  Trip ", ["b", "a", "c"]);

        Assert.Equal(["a", "b", "c"], e.UserIds);
        Assert.Equal("Trip", e.Title);
        var info = members.Info("g", default);
        Assert.Equal(["a"], info.Owners);
        Assert.Equal(3, info.MemberCount);
        Assert.Equal("Trip", info.Title);
    }

    [Theory]
    [InlineData("", ErrorCode.InvalidRequest)]
    [InlineData("   ", ErrorCode.InvalidRequest)]
    [InlineData("eleven chars", ErrorCode.InvalidRequest)]
    public void Create_BadTitle_IsRefused(string title, ErrorCode code) =>
        Assert.Equal(code, Refusal(() => new ConversationMembers(ConversationKind.Group, null, [], 5, 10).Create("a", title, ["b"])));

    [Fact]
    public void Create_DuplicateOrTooMany_IsRefused()
    {
        Assert.Equal(ErrorCode.InvalidRequest, Refusal(() => new ConversationMembers(ConversationKind.Group, null, [], 5, 10).Create("a", "T", ["b", "b"])));
        Assert.Equal(ErrorCode.GroupFull, Refusal(() => new ConversationMembers(ConversationKind.Group, null, [], 3, 10).Create("a", "T", ["b", "c", "d"])));
    }

    [Fact]
    public void Add_ByAMember_IsRefused_ByAnAdmin_Works()
    {
        var members = NewGroup();

        Assert.Equal(ErrorCode.NotAdmin, Refusal(() => members.Add("member", ["x"], _ => true)));
        Assert.Equal(ErrorCode.NotMember, Refusal(() => members.Add("stranger", ["x"], _ => true)));
        members.Add("admin", ["x"], _ => true);

        Assert.NotNull(members.Current("x"));
        Assert.Equal(4, members.Count);
    }

    [Fact]
    public void Add_AlreadyAMember_Duplicates_PastTheLimit_OrEmpty_AreRefusedAndChangeNothing()
    {
        var members = NewGroup(maxMembers: 4);

        Assert.Equal(ErrorCode.AlreadyMember, Refusal(() => members.Add("owner", ["x", "member"], _ => true)));
        Assert.Equal(ErrorCode.InvalidRequest, Refusal(() => members.Add("owner", ["x", "x"], _ => true)));
        Assert.Equal(ErrorCode.GroupFull, Refusal(() => members.Add("owner", ["x", "y"], _ => true)));
        Assert.Equal(ErrorCode.InvalidRequest, Refusal(() => members.Add("owner", [], _ => true)));

        Assert.Equal(3, members.Count);
        Assert.Null(members.Current("x"));
    }

    [Fact]
    public void Add_AFormerMemberStillBeingDeliveredTo_IsRefusedForNow()
    {
        var members = NewGroup();
        members.Remove("owner", "member");

        Assert.Equal(ErrorCode.Unavailable, Refusal(() => members.Add("owner", ["member"], _ => false)));
        members.Add("owner", ["member"], _ => true);

        Assert.Equal(MemberRole.Member, members.Current("member")!.Role);
    }

    [Fact]
    public void Remove_RespectsRoles()
    {
        var members = NewGroup();

        Assert.Equal(ErrorCode.NotAdmin, Refusal(() => members.Remove("member", "admin")));
        Assert.Equal(ErrorCode.NotOwner, Refusal(() => members.Remove("admin", "owner")));
        Assert.Equal(ErrorCode.MemberNotFound, Refusal(() => members.Remove("owner", "stranger")));
        Assert.Equal(ErrorCode.InvalidRequest, Refusal(() => members.Remove("owner", "owner")));
        Assert.Equal(ErrorCode.InvalidRequest, Refusal(() => members.Remove("member", "member"))); // leave is for that, whatever the role
        members.Remove("admin", "member");

        Assert.Null(members.Current("member"));
        Assert.Equal(ErrorCode.NotMember, Refusal(() => members.Rename("member", "Back")));
    }

    [Fact]
    public void SetRole_OwnerRoleOnlyByAnOwner_NeverTheLastOwners()
    {
        var members = NewGroup();

        Assert.Equal(ErrorCode.NotOwner, Refusal(() => members.SetRole("admin", "member", MemberRole.Owner)));
        Assert.Equal(ErrorCode.NotOwner, Refusal(() => members.SetRole("admin", "owner", MemberRole.Member)));
        Assert.Equal(ErrorCode.LastOwner, Refusal(() => members.SetRole("owner", "owner", MemberRole.Admin)));
        Assert.Null(members.SetRole("owner", "admin", MemberRole.Admin)); // nothing to change
        members.SetRole("admin", "member", MemberRole.Admin);
        members.SetRole("owner", "admin", MemberRole.Owner);
        members.SetRole("admin", "owner", MemberRole.Member); // now two owners: one may step down

        Assert.Equal(["admin"], members.Info("g", default).Owners);
    }

    [Fact]
    public void Leave_TheLastOwner_HandsTheRoleToTheLongestStandingAdminFirst()
    {
        var members = NewGroup();

        var events = members.Leave("owner");

        Assert.Equal([ConversationEventType.RoleChanged, ConversationEventType.MemberLeft], events.Select(e => e.Type));
        Assert.Equal(["admin"], events[0].UserIds);
        Assert.Equal(["admin"], members.Info("g", default).Owners);
        Assert.Null(members.Current("owner"));
    }

    [Fact]
    public void Leave_AnotherMember_OrTheLastOne_IsJustALeave()
    {
        var members = NewGroup();

        Assert.Single(members.Leave("member"));
        Assert.Single(members.Leave("admin"));
        Assert.Single(members.Leave("owner"));
        Assert.Equal(0, members.Count);
    }

    [Fact]
    public void Commands_OnADirectConversation_AreRefusedAsNotGroup()
    {
        var direct = new ConversationMembers(ConversationKind.Direct, null,
            [new MemberRecord("a", MemberRole.Member, 1, 0, false), new MemberRecord("b", MemberRole.Member, 1, 0, false)], 5, 10);

        Assert.Equal(ErrorCode.NotGroup, Refusal(() => direct.Leave("a")));
        Assert.Equal(ErrorCode.NotGroup, Refusal(() => direct.Rename("a", "x")));
    }

    [Fact]
    public void Committed_FillsInTheSeqsOfQueuedJoinsAndLeaves()
    {
        var members = NewGroup();
        Assert.Equal(ConversationMembers.Pending, members.Current("member")!.JoinedSeq);

        members.Committed(new ChatMessage("g", 1, "owner", "e1", "", default, new ConversationEvent(ConversationEventType.Created, ["owner", "admin", "member"], "Team")));
        var removal = members.Remove("owner", "member");
        members.Committed(new ChatMessage("g", 4, "owner", "e2", "", default, removal));

        Assert.Equal((1L, 4L), (members.Find("member")!.JoinedSeq, members.Find("member")!.LeftSeq));
    }
}
