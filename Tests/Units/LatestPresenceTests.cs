using Messenger.Client;

namespace Messenger.Tests.Units;

/// <summary>The .NET client's rule for a subscribe's answer racing a push (PROTOCOL 7).</summary>
public sealed class LatestPresenceTests
{
    private static readonly DateTimeOffset Seen = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public void Merge_PushThatCameWhileTheSubscribeWasOut_ReplacesTheOlderAnswer()
    {
        var latest = new LatestPresence();
        var begun = latest.Begin(["dave", "erin"]);
        latest.Pushed(new Presence("dave", true, null)); // pushed after the answer's snapshot, arrived first
        var merged = latest.Merge([new Presence("dave", false, Seen), new Presence("erin", false, Seen)], begun);
        Assert.Equal([new Presence("dave", true, null), new Presence("erin", false, Seen)], merged);
    }

    [Fact]
    public void Merge_PushFromBeforeTheSubscribe_LeavesTheAnswer()
    {
        var latest = new LatestPresence();
        latest.Pushed(new Presence("dave", true, null));
        var begun = latest.Begin(["dave"]);
        Assert.Equal([new Presence("dave", false, Seen)], latest.Merge([new Presence("dave", false, Seen)], begun));
    }

    [Fact]
    public void Begin_ForgetsUsersNoLongerWatched()
    {
        var latest = new LatestPresence();
        var first = latest.Begin(["dave"]);
        latest.Pushed(new Presence("dave", true, null));
        latest.Begin(["erin"]);
        // dave's push is gone: a later answer about him (after watching him again) is taken as it is.
        Assert.Equal([new Presence("dave", false, Seen)], latest.Merge([new Presence("dave", false, Seen)], first));
    }
}
