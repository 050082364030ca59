using Messenger.Grains;
using Messenger.Grains.Push;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Units;

/// <summary>The push decision: received, read, muted, collapsed bursts, retries and giving up.</summary>
public sealed class PushOutboxTests
{
    private static readonly PushOptions Options = new() { Delay = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(30), MaxAttempts = 3 };
    private static readonly PushSubscription Phone = new(PushKind.Webhook, Target: "relay", Token: "t1");
    private static readonly PushSubscription Browser = new(PushKind.WebPush, Endpoint: "https://push.example/x", P256dh: "k", Auth: "a");

    private sealed class View : IPushView
    {
        public long ReceivedUpTo { get; set; }
        public Dictionary<string, long> Reads { get; } = [];
        public HashSet<string> Muted { get; } = [];
        public Dictionary<string, PushSubscription> Subs { get; } = new() { ["phone"] = Phone, ["browser"] = Browser };
        public long ReadSeq(string conversationId) => Reads.GetValueOrDefault(conversationId);
        public long Unread(string conversationId) => 7;
        public bool IsMuted(string conversationId, long nowMs) => Muted.Contains(conversationId);
        public IReadOnlyDictionary<string, PushSubscription> Subscriptions => Subs;
    }

    private static ChatMessage Msg(string c, long seq) => new(c, seq, "alice", $"m{seq}", "hi", DateTimeOffset.FromUnixTimeMilliseconds(500));

    private static (PushOutbox Outbox, List<PushRecord> Rows) Outbox(params (string C, long Seq, long UserSeq, long AtMs)[] messages)
    {
        var outbox = new PushOutbox(Options);
        var rows = messages.Select(m => outbox.Create(Msg(m.C, m.Seq), m.UserSeq, muted: false, m.AtMs)).ToList();
        outbox.Track(rows);
        return (outbox, rows);
    }

    [Fact]
    public void Decide_ABurst_MakesOneNotificationForTheNewest_WhenTheFirstIsDue()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 1_000), ("c", 2, 2, 1_500), ("c", 3, 3, 2_900), ("d", 1, 4, 1_200));
        Assert.Equal(3_000, outbox.NextDueMs());
        Assert.Empty(outbox.Decide(new View(), 2_999).Sends);

        var (changed, sends) = outbox.Decide(new View(), 3_000);

        var send = Assert.Single(sends);
        Assert.Equal(("c", 3L, 3, 7L), (send.Record.ConversationId, send.Record.Seq, send.Count, send.Unread));
        Assert.Equal(["browser", "phone"], send.Targets.Select(t => t.Key).Order());
        Assert.Equal([(1L, PushState.Collapsed), (2L, PushState.Collapsed), (3L, PushState.Pending)],
            changed.Select(r => (r.Seq, r.State)).Order());
        Assert.Equal(3_200, outbox.NextDueMs()); // c:3 is in flight; d:1 is due at 3_200
    }

    [Fact]
    public void Decide_ReceivedReadAndMuted_SendNothing()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0), ("d", 1, 2, 0), ("e", 1, 3, 0), ("f", 5, 9, 0));
        var view = new View { ReceivedUpTo = 1 };
        view.Reads["d"] = 1;
        view.Muted.Add("e");
        view.Subs.Clear();

        var (changed, sends) = outbox.Decide(view, 10_000);

        Assert.Empty(sends);
        Assert.Equal([("c", PushState.Delivered), ("d", PushState.Read), ("e", PushState.Muted), ("f", PushState.NoSubscription)],
            changed.Select(r => (r.ConversationId, r.State)).Order());
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public void Complete_RetriesWithBackoffOrRetryAfter_OnlyWhereNeeded_ThenSent()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0));
        var send = Assert.Single(outbox.Decide(new View(), 2_000).Sends);

        var row = outbox.Complete("c", 1, [Attempt("phone", PushOutcome.Sent), Attempt("browser", PushOutcome.Retry, "503")], 2_100)!;
        Assert.Equal((PushState.Pending, 1, 3_100L, "503"), (row.State, row.Attempts, row.DueMs, row.Detail)); // 1 s after the first attempt
        var retry = Assert.Single(outbox.Decide(new View(), 3_100).Sends);
        Assert.Equal(["browser"], retry.Targets.Select(t => t.Key));

        row = outbox.Complete("c", 1, [Attempt("browser", PushOutcome.Retry, "429", TimeSpan.FromSeconds(10))], 3_200)!;
        Assert.Equal(13_200L, row.DueMs); // Retry-After (10 s) is longer than the backoff (2 s)
        Assert.Single(outbox.Decide(new View(), 13_200).Sends);
        row = outbox.Complete("c", 1, [Attempt("browser", PushOutcome.Sent)], 13_300)!;
        Assert.Equal((PushState.Sent, 3), (row.State, row.Attempts));
        Assert.Equal(0, outbox.Count);
        _ = send;
    }

    [Fact]
    public void Complete_GivesUpAfterMaxAttempts_AndFailsWhenEverySubscriptionRefuses()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0), ("d", 1, 2, 0));
        outbox.Decide(new View(), 2_000);
        var failed = outbox.Complete("d", 1, [Attempt("phone", PushOutcome.Gone, "410 Gone"), Attempt("browser", PushOutcome.Rejected, "400 Bad Request")], 2_100)!;
        Assert.Equal(PushState.Failed, failed.State);

        var now = 2_100L;
        PushRecord row = null!;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            row = outbox.Complete("c", 1, [Attempt("phone", PushOutcome.Retry, "500"), Attempt("browser", PushOutcome.Retry, "500")], now)!;
            now = row.DueMs;
            outbox.Decide(new View(), now);
        }
        Assert.Equal((PushState.Failed, 3), (row.State, row.Attempts));
        Assert.StartsWith("gave up after 3 attempts", row.Detail);
    }

    [Fact]
    public void Decide_ANewBurst_CollapsesAnOlderNotificationStillWaitingForARetry()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0));
        outbox.Decide(new View(), 2_000);
        outbox.Complete("c", 1, [Attempt("phone", PushOutcome.Retry, "503"), Attempt("browser", PushOutcome.Retry, "503")], 2_000);
        var newer = outbox.Create(Msg("c", 2), 2, muted: false, 2_500);
        outbox.Track([newer]);

        var (changed, sends) = outbox.Decide(new View(), 4_500);

        var send = Assert.Single(sends);
        Assert.Equal((2L, 2), (send.Record.Seq, send.Count));
        Assert.Contains(changed, r => r.Seq == 1 && r.State == PushState.Collapsed);
    }

    [Fact]
    public void ASendWhoseOutcomeNeverComes_IsDueAgainWhenItsLeaseRunsOut_AndGoesAgain()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0));
        var (changed, sends) = outbox.Decide(new View(), 2_000);
        var lease = (long)outbox.Lease.TotalMilliseconds;
        Assert.Equal(2_000 + lease, Assert.Single(changed).DueMs); // saved with the decision
        Assert.Equal(2_000 + lease, outbox.NextDueMs());
        Assert.Empty(outbox.Decide(new View(), 2_000 + lease - 1).Sends);

        var again = Assert.Single(outbox.Decide(new View(), 2_000 + lease).Sends);
        Assert.Equal((1L, 2), (again.Record.Seq, again.Targets.Count));
    }

    [Fact]
    public void ARetry_IsDroppedWhenTheUserReadTheMessageMeanwhile()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0));
        outbox.Decide(new View(), 2_000);
        var waiting = outbox.Complete("c", 1, [Attempt("phone", PushOutcome.Retry, "503"), Attempt("browser", PushOutcome.Retry, "503")], 2_000)!;
        var view = new View();
        view.Reads["c"] = 1;

        var (changed, sends) = outbox.Decide(view, waiting.DueMs);

        Assert.Empty(sends);
        Assert.Equal(PushState.Read, Assert.Single(changed).State);
    }

    [Fact]
    public void Decide_ANewBurst_LeavesANotificationOnItsWay_AndCountsOnlyTheNewMessages()
    {
        var (outbox, _) = Outbox(("c", 1, 1, 0));
        outbox.Decide(new View(), 2_000); // c:1 handed to the sender, no outcome yet
        outbox.Track([outbox.Create(Msg("c", 2), 2, muted: false, 2_500)]);

        var (changed, sends) = outbox.Decide(new View(), 4_500);

        var send = Assert.Single(sends);
        Assert.Equal((2L, 1), (send.Record.Seq, send.Count));
        Assert.DoesNotContain(changed, r => r.Seq == 1);
        Assert.Equal(PushState.Sent, outbox.Complete("c", 1, [Attempt("phone", PushOutcome.Sent), Attempt("browser", PushOutcome.Sent)], 4_600)!.State);
    }

    [Fact]
    public void NotificationId_IsStablePerUserAndMessage_AndDiffersBetweenUsers()
    {
        Assert.Equal(PushOutbox.NotificationId("u1", "c", 1), PushOutbox.NotificationId("u1", "c", 1));
        Assert.NotEqual(PushOutbox.NotificationId("u1", "c", 1), PushOutbox.NotificationId("u2", "c", 1));
        Assert.NotEqual(PushOutbox.NotificationId("u1", "c", 1), PushOutbox.NotificationId("u1", "c", 2));
        Assert.Matches("^[A-Za-z0-9_-]{22}$", PushOutbox.NotificationId("u1", "c", 1));
    }

    private static PushAttempt Attempt(string device, PushOutcome outcome, string? detail = null, TimeSpan? retryAfter = null) =>
        new("c", 1, device, outcome, retryAfter, detail, device == "phone" ? Phone : Browser);
}

/// <summary>Which addresses a user's push endpoint may reach.</summary>
public sealed class PushAddressesTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.20.30.40", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("142.250.74.10", false)]
    [InlineData("2a00:1450:4001:81b::200a", false)]
    public void IsInner_TellsTheServersOwnNetworksFromTheInternet(string address, bool inner) =>
        Assert.Equal(inner, PushAddresses.IsInner(System.Net.IPAddress.Parse(address)));
}

/// <summary>Addresses that carry an IPv4 one, and the ranges reserved for benchmarks and protocols.</summary>
public sealed class PushAddressesMoreTests
{
    [Theory]
    [InlineData("64:ff9b::a00:1", true)]     // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::808:808", false)]  // NAT64 of 8.8.8.8
    [InlineData("2002:c0a8:101::1", true)]   // 6to4 of 192.168.1.1
    [InlineData("::a00:1", true)]            // IPv4-compatible 10.0.0.1
    [InlineData("198.18.0.1", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("198.20.0.1", false)]
    public void IsInner_LooksThroughEmbeddedAddresses(string address, bool inner) =>
        Assert.Equal(inner, PushAddresses.IsInner(System.Net.IPAddress.Parse(address)));
}
