using Messenger.Grains;
using Messenger.Grains.Conversations;

namespace Messenger.Tests.Units;

/// <summary>Receipt pointers and the counts derived from them.</summary>
public sealed class ReceiptTrackerTests
{
    private static readonly MemberRecord[] Members =
    [
        new("a", MemberRole.Owner, 1, 0, false), new("b", MemberRole.Member, 1, 0, false),
        new("c", MemberRole.Member, 1, 0, false), new("late", MemberRole.Member, 5, 0, false),
        new("gone", MemberRole.Member, 1, 3, false),
    ];

    private static ChatMessage From(string sender, long seq) => new("g", seq, sender, $"m{seq}", "x", default);

    [Fact]
    public void Count_OnlyMembersTheMessageWasFor_SenderLeftOut()
    {
        var tracker = new ReceiptTracker(Members);
        tracker.Advance("b", delivered: 4, read: 2);
        tracker.Advance("c", delivered: 1, read: 0);
        tracker.Advance("late", delivered: 9, read: 9);

        Assert.Equal(new MessageReceipt(2, 1, 1, 2), tracker.Count(From("a", 2), Members)); // b and c (not late, not gone)
        Assert.Equal(new MessageReceipt(4, 1, 0, 2), tracker.Count(From("a", 4), Members));
        Assert.Equal(new MessageReceipt(6, 1, 1, 3), tracker.Count(From("a", 6), Members)); // late joined at 5
    }

    [Fact]
    public void Advance_OnlyForward_ReadImpliesReceived_AndReportsWhatChanged()
    {
        var tracker = new ReceiptTracker(Members);

        Assert.True(tracker.Advance("b", 0, 3));
        Assert.False(tracker.Advance("b", 2, 1));
        Assert.Equal((3L, 3L), tracker.Of("b"));
        Assert.Equal((1L, 3L), tracker.Pending);
        Assert.Equal((1L, 3L), tracker.Pending); // looking takes nothing
        Assert.Equal((1L, 3L), tracker.TakeChanged());
        Assert.Null(tracker.Pending);
        Assert.Null(tracker.TakeChanged());
        Assert.True(tracker.Advance("c", 7, 0));
        Assert.Equal((1L, 7L), tracker.TakeChanged());
        Assert.Equal(["b", "c"], tracker.TakeUnsaved().Select(r => r.UserId).Order());
        Assert.Empty(tracker.TakeUnsaved());
    }

    [Fact]
    public void AMemberWhoJoinsLater_StartsAtTheirJoin()
    {
        var tracker = new ReceiptTracker(Members);

        tracker.Joined("new", 8);

        Assert.Equal((7L, 7L), tracker.Of("new"));
        Assert.Equal((4L, 4L), tracker.Of("late"));
    }
}
