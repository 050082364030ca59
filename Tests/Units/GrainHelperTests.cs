using Messenger.Grains;
using Messenger.Grains.Conversations;
using Messenger.Grains.Storage;
using Messenger.Grains.Support;
using Messenger.Grains.Users;
using Microsoft.Extensions.Time.Testing;

namespace Messenger.Tests.Units;

/// <summary>The small plain classes the grains are made of.</summary>
public sealed class GrainHelperTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    /// <summary>Lets whatever a fired timer queued on the test's one-at-a-time scheduler run before the test looks.</summary>
    private static async Task LetQueuedWorkRun()
    {
        for (var i = 0; i < 5; i++) await Task.Yield();
    }

    [Fact]
    public Task ThrottledSave_SavesAtOnceWhenQuiet_ThenAtMostOncePerInterval_NewestMarkWins() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var saved = new List<long>();
        var signal = new SemaphoreSlim(0);
        var save = new ThrottledSave(mark => { saved.Add(mark); signal.Release(); return Task.CompletedTask; },
            TimeSpan.FromSeconds(1), time, (_, _) => { });

        save.Request(3);
        await signal.WaitAsync(TimeSpan.FromSeconds(5));
        save.Request(4);
        save.Request(7);
        save.Request(5); // below the newest request: ignored
        Assert.Equal([3L], saved);

        time.Advance(TimeSpan.FromSeconds(1));
        await signal.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([3L, 7L], saved);
        Assert.Equal(7, save.Saved);

        save.Request(9);
        await save.FlushAsync(); // deactivation: now, not after the interval
        Assert.Equal([3L, 7L, 9L], saved);
    });

    [Fact]
    public Task ThrottledSave_SavesAfterEachWait_OnTheRequestersScheduler() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var requester = TaskScheduler.Current;
        var saved = new List<long>();
        var schedulers = new List<TaskScheduler>();
        var signal = new SemaphoreSlim(0);
        var save = new ThrottledSave(mark => { saved.Add(mark); schedulers.Add(TaskScheduler.Current); signal.Release(); return Task.CompletedTask; },
            TimeSpan.FromSeconds(10), time, (_, _) => { });

        save.Request(1);
        await signal.WaitAsync(TimeSpan.FromSeconds(5));
        for (var round = 2; round <= 4; round++)
        {
            save.Request(round * 10);
            save.Request(round * 10 + 1);
            time.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal(round - 1, saved.Count); // the interval is not over
            await Task.Run(() => time.Advance(TimeSpan.FromSeconds(1))); // the wait ends on another thread...
            Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        }
        Assert.Equal([1L, 21L, 31L, 41L], saved);
        Assert.All(schedulers, s => Assert.Same(requester, s)); // ...and each save runs on it
    });

    [Fact]
    public Task ThrottledSave_AFlushAfterASlowSave_SavesWhatCameMeanwhile_NeverTwoAtOnce() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var saves = new List<(long Mark, TaskCompletionSource Done)>();
        var running = 0;
        var mostAtOnce = 0;
        var save = new ThrottledSave(async mark =>
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            saves.Add((mark, done));
            mostAtOnce = Math.Max(mostAtOnce, ++running);
            try { await done.Task; } finally { running--; }
        }, TimeSpan.FromSeconds(1), time, (_, _) => { });

        save.Request(1);
        save.Request(2); // while the first save runs
        time.Advance(TimeSpan.FromSeconds(2)); // ...for longer than the interval
        var flush = save.FlushAsync(); // deactivation: waits for the save in flight, then saves what came meanwhile
        saves[0].Done.SetResult();
        for (var i = 0; i < 100 && saves.Count < 2; i++) await Task.Yield();
        Assert.Equal([1L, 2L], saves.Select(s => s.Mark));
        Assert.False(flush.IsCompleted); // not before the second save is done
        saves[1].Done.SetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 100; i++) await Task.Yield(); // (a timer firing now finds nothing owed)
        Assert.Equal(2, saves.Count);
        Assert.Equal(1, mostAtOnce);
        Assert.Equal(2, save.Saved);
    });

    [Fact]
    public Task ThrottledSave_AFailedSave_IsTriedAgainAfterABackoff_WithoutAnotherRequest() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var attempts = new List<long>();
        var errors = new List<long>();
        var signal = new SemaphoreSlim(0);
        var save = new ThrottledSave(mark =>
        {
            attempts.Add(mark);
            signal.Release();
            return attempts.Count <= 2 ? Task.FromException(new IOException("disk")) : Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(200), time, (_, mark) => errors.Add(mark));

        save.Request(2);
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([2L], errors);

        // First retry a second after the attempt (the interval is shorter), nothing before.
        time.Advance(TimeSpan.FromMilliseconds(999));
        await LetQueuedWorkRun();
        Assert.Single(attempts);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([2L, 2L], attempts);

        // It failed again: the next wait is twice as long, and takes what was requested meanwhile.
        save.Request(4);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        await LetQueuedWorkRun();
        Assert.Equal(2, attempts.Count);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([2L, 2L, 4L], attempts);
        Assert.Equal([2L, 2L], errors);
        Assert.Equal(4, save.Saved);

        // A success goes back to the interval.
        time.Advance(TimeSpan.FromMilliseconds(200));
        save.Request(5);
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(5, save.Saved);
    });

    [Fact]
    public Task ThrottledSave_TheBackoffDoubles_UpToAMinute() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var attemptedAt = new List<DateTimeOffset>();
        var signal = new SemaphoreSlim(0);
        var save = new ThrottledSave(_ =>
        {
            attemptedAt.Add(time.GetUtcNow());
            signal.Release();
            return Task.FromException(new IOException("disk"));
        }, TimeSpan.Zero, time, (_, _) => { });

        save.Request(1);
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        foreach (var seconds in new[] { 1, 2, 4, 8, 16, 32, 60, 60, 60 })
        {
            var before = attemptedAt.Count;
            time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            await LetQueuedWorkRun();
            Assert.Equal(before, attemptedAt.Count); // not due yet
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        }
        var waits = attemptedAt.Zip(attemptedAt.Skip(1), (a, b) => (b - a).TotalSeconds).ToArray();
        Assert.Equal([1d, 2, 4, 8, 16, 32, 60, 60, 60], waits);
    });

    [Fact]
    public Task ThrottledSave_Stopped_TriesNothingMore() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var attempts = 0;
        var save = new ThrottledSave(_ =>
        {
            attempts++;
            return Task.FromException(new IOException("disk"));
        }, TimeSpan.FromSeconds(1), time, (_, _) => { });

        save.Request(1);
        await save.FlushAsync(); // the deactivation's last attempt, failed too
        Assert.Equal(2, attempts);
        save.Stop();
        time.Advance(TimeSpan.FromMinutes(5));
        await LetQueuedWorkRun();
        save.Request(2);
        await save.FlushAsync(); // a second close (deactivation after an account deletion closed it): nothing either
        await LetQueuedWorkRun();
        Assert.Equal(2, attempts);
    });

    [Fact]
    public Task ThrottledSave_TheBackoffCountsFromTheFailure_NotFromTheStartOfASlowAttempt() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var attempts = 0;
        var slow = new TaskCompletionSource();
        var signal = new SemaphoreSlim(0);
        var save = new ThrottledSave(_ =>
        {
            attempts++;
            signal.Release();
            return attempts == 1 ? slow.Task : Task.CompletedTask;
        }, TimeSpan.Zero, time, (_, _) => { });

        save.Request(1);
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        time.Advance(TimeSpan.FromSeconds(30)); // a call that times out late
        slow.SetException(new TimeoutException());
        await LetQueuedWorkRun();
        time.Advance(TimeSpan.FromMilliseconds(999));
        await LetQueuedWorkRun();
        Assert.Equal(1, attempts);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(2, attempts);
        Assert.Equal(1, save.Saved);
    });

    [Fact]
    public Task ThrottledSave_AFailedSave_IsReported_AndAFlushTriesAgainAtOnce() => OneTurnAtATime.Run(async () =>
    {
        var time = new FakeTimeProvider(T0);
        var attempts = new List<long>();
        var errors = new List<long>();
        var save = new ThrottledSave(mark =>
        {
            attempts.Add(mark);
            return attempts.Count == 1 ? Task.FromException(new IOException("disk")) : Task.CompletedTask;
        }, TimeSpan.Zero, time, (_, mark) => errors.Add(mark));

        save.Request(2);
        await Task.Yield();
        Assert.Equal([2L], errors);
        Assert.Equal(0, save.Saved);

        save.Request(3);
        await save.FlushAsync();
        Assert.Equal([2L, 3L], attempts);
        Assert.Equal(3, save.Saved);
    });

    [Fact]
    public void ReceiptCarriers_OneUpdateOnItsWayPerSender_AtMostOnePerInterval_AFlushThatFoundThemBusyIsOwedARun()
    {
        var time = new FakeTimeProvider(T0);
        var carriers = new ReceiptCarriers(TimeSpan.FromSeconds(1), time);
        Assert.True(carriers.Due("alice")); // never got one
        Assert.False(carriers.LeaveOut("alice")); // not busy: the flush sends to her itself
        carriers.Begin("alice");
        Assert.True(carriers.Busy("alice"));
        Assert.False(carriers.Due("alice"));
        Assert.False(carriers.Busy("bob"));
        Assert.Throws<ArgumentException>(() => carriers.Begin("alice")); // two would cross
        Assert.False(carriers.End("alice", arrived: true)); // nobody left her out
        Assert.False(carriers.Busy("alice"));
        Assert.False(carriers.Due("alice")); // one arrived just now

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(carriers.Due("alice"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(carriers.Due("alice"));

        carriers.Begin("alice");
        Assert.True(carriers.LeaveOut("alice"));
        Assert.True(carriers.End("alice", arrived: false)); // the flush that left her out runs again
        Assert.False(carriers.End("alice", arrived: false)); // once
        time.Advance(TimeSpan.FromSeconds(1)); // a failed update does not count as one that arrived: due after the backoff
        Assert.True(carriers.Due("alice"));

        carriers.Begin("bob");
        carriers.End("bob", arrived: true);
        Assert.False(carriers.Due("bob"));
        carriers.StopPacing(); // the last flush: everyone not busy is due
        Assert.True(carriers.Due("bob"));
        carriers.Begin("bob");
        Assert.False(carriers.Due("bob")); // still one at a time
    }

    [Fact]
    public void ReceiptCarriers_ASenderWhoseUpdateFailed_WaitsABackoffOfTheirOwn_DoublingUntilOneArrives()
    {
        var time = new FakeTimeProvider(T0);
        var carriers = new ReceiptCarriers(TimeSpan.FromMilliseconds(500), time);
        void Fail(string userId)
        {
            carriers.Begin(userId);
            carriers.End(userId, arrived: false);
        }

        Assert.Null(carriers.NextBackoffEnd());
        Fail("alice");
        Assert.True(carriers.Due("bob")); // nobody else waits
        Assert.True(carriers.BackingOff("alice"));
        Assert.False(carriers.BackingOff("bob"));
        Assert.Equal(TimeSpan.FromSeconds(1), carriers.NextBackoffEnd()); // when a run should look again
        time.Advance(TimeSpan.FromMilliseconds(400));
        Fail("dave");
        Assert.Equal(TimeSpan.FromMilliseconds(600), carriers.NextBackoffEnd()); // the first to end
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.FromMilliseconds(400), carriers.NextBackoffEnd()); // Alice's is over: Dave's
        Assert.True(carriers.Due("alice"));
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Null(carriers.NextBackoffEnd());
        foreach (var seconds in new[] { 2, 4 }) // her second and third failures in a row
        {
            Fail("alice");
            time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            Assert.False(carriers.Due("alice"));
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(carriers.Due("alice"));
        }
        carriers.Begin("alice");
        carriers.End("alice", arrived: true); // one arrived: back to the interval
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(carriers.Due("alice"));
        Fail("alice");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(carriers.Due("alice")); // the backoff starts over at a second

        Fail("carol");
        carriers.StopPacing(); // the last flush tries everyone not busy, backing off or not
        Assert.True(carriers.Due("carol"));
    }

    [Fact]
    public void ConversationIds_DirectAndGroupShapes()
    {
        var (a, b) = ("u" + new string('1', 32), "u" + new string('a', 32));
        var direct = ConversationIds.Direct(b, a);
        Assert.Equal($"d:{a}:{b}", direct);
        Assert.True(ConversationIds.IsValid(direct));
        Assert.True(ConversationIds.TryParseDirect(direct, out var first, out var second));
        Assert.Equal((a, b), (first, second));
        Assert.True(ConversationIds.IsValid("g:" + new string('0', 32)));
        Assert.True(ConversationIds.IsGroup("g:" + new string('f', 32)));

        foreach (var bad in new[]
        {
            $"d:{b}:{a}", $"d:{a}:{a}", $"d:{a}", $"d:{a}:", $"d::{b}", $"d:{a}:{b}x", $"x:{a}:{b}", "d:" + a.ToUpperInvariant() + ":" + b,
            "g:" + new string('0', 31), "g:" + new string('0', 33), "g:" + new string('G', 32), "",
        })
        {
            Assert.False(ConversationIds.IsValid(bad), bad);
            Assert.False(ConversationIds.TryParseDirect(bad, out _, out _), bad);
        }
        Assert.True(UserIds.IsValid(a));
        Assert.False(UserIds.IsValid((string?)null));
        Assert.False(UserIds.IsValid("v" + new string('1', 32)));
    }

    [Fact]
    public void RecentMessages_TryGet_OnlyWhatTheRingHolds()
    {
        var recent = new RecentMessages(3);
        Assert.False(recent.TryGet(1, out _));
        for (var seq = 1; seq <= 5; seq++) recent.Add(new ChatMessage("c", seq, "a", $"m{seq}", "x", T0));

        Assert.False(recent.TryGet(2, out _)); // pushed out
        Assert.True(recent.TryGet(3, out var third));
        Assert.Equal("m3", third.ClientMsgId);
        Assert.True(recent.TryGet(5, out var fifth));
        Assert.Equal(5, fifth.Seq);
        Assert.False(recent.TryGet(6, out _));
    }

    [Fact]
    public void SendDeduplicator_ForgetsByAgeAndCapacity()
    {
        var time = new FakeTimeProvider(T0);
        var dedup = new SendDeduplicator(capacity: 2, maxAge: TimeSpan.FromMinutes(1), time);
        var ack = Task.FromResult(new SendAck(new ChatMessage("c", 1, "a", "m1", "x", T0), 1, false, []));

        dedup.Add("a", "m1", ack);
        dedup.Add("a", "m2", ack);
        Assert.True(dedup.TryGet("a", "m1", out _));
        dedup.Add("a", "m3", ack);
        Assert.False(dedup.TryGet("a", "m1", out _)); // beyond capacity
        Assert.True(dedup.TryGet("a", "m2", out _));

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1));
        Assert.False(dedup.TryGet("a", "m3", out _)); // too old
        Assert.Equal(0, dedup.Count);
    }

    [Fact]
    public void SendDeduplicator_KeepsTheAckWhileInFlight_AndOnlyWhereTheMessageLandedOnceGiven()
    {
        var time = new FakeTimeProvider(T0);
        var dedup = new SendDeduplicator(capacity: 10, maxAge: TimeSpan.FromSeconds(10), time);
        var inFlight = new TaskCompletionSource<SendAck>();

        dedup.Add("a", "m1", inFlight.Task);
        Assert.True(dedup.TryGet("a", "m1", out var earlier));
        Assert.Same(inFlight.Task, earlier.Pending);

        var message = new ChatMessage("c", 7, "a", "m1", "x", T0);
        dedup.Settled("a", "m1", message, userSeq: 42);
        Assert.True(dedup.TryGet("a", "m1", out earlier));
        Assert.Equal(new EarlierSend(null, message, 42), earlier);
        dedup.Settled("a", "unknown", message, userSeq: 43); // a key not remembered stays unknown
        Assert.False(dedup.TryGet("a", "unknown", out _));
    }

    [Fact]
    public void SendDeduplicator_AKeyForgottenAndAddedAgain_KeepsItsNewAge()
    {
        var time = new FakeTimeProvider(T0);
        var dedup = new SendDeduplicator(capacity: 10, maxAge: TimeSpan.FromSeconds(10), time);
        dedup.Add("a", "m1", new TaskCompletionSource<SendAck>().Task);
        dedup.Remove("a", "m1"); // it failed

        time.Advance(TimeSpan.FromSeconds(6));
        var retry = new TaskCompletionSource<SendAck>();
        dedup.Add("a", "m1", retry.Task);
        time.Advance(TimeSpan.FromSeconds(5)); // the first one's age has passed, the retry's has not

        Assert.True(dedup.TryGet("a", "m1", out var earlier));
        Assert.Same(retry.Task, earlier.Pending);
        time.Advance(TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(1)); // now the retry's has too
        Assert.False(dedup.TryGet("a", "m1", out _));
        Assert.Equal(0, dedup.Count);
    }

    [Fact]
    public void UserConversations_ApplyingTheSameUpdatesTwice_ChangesNothing_AndOwnMessagesMarkRead()
    {
        var list = new UserConversations("u-me");
        var info = new ConversationInfo("c", ConversationKind.Direct, ["u-me", "u-you"], T0);
        list.Load([new UserConversation(info, 2, 1)]);
        UpdatePointer[] tail =
        [
            new(3, UpdateKind.Message, "c", 3, FromSelf: false),
            new(4, UpdateKind.Message, "c", 4, FromSelf: true),
            new(5, UpdateKind.Message, "c", 5, FromSelf: false),
            new(6, UpdateKind.Read, "c", 3, FromSelf: true), // a stale read mark never moves it back
        ];

        foreach (var update in tail) Assert.True(list.Apply(update));
        foreach (var update in tail) Assert.True(list.Apply(update));

        Assert.True(list.TryGet("c", out var entry));
        Assert.Equal((5L, 4L), (entry.LastSeq, entry.ReadSeq));
        Assert.False(list.Apply(new UpdatePointer(7, UpdateKind.Message, "unknown", 1, false)));
        Assert.True(list.IsContact("u-you"));
        Assert.True(list.IsContact("u-me"));
        Assert.False(list.IsContact("u-stranger"));
    }

    [Fact]
    public void UserConversations_TakeChanged_HandsOutEachChangeOnce_AndRestoreKeepsNewerValues()
    {
        var list = new UserConversations("u-me");
        var info = new ConversationInfo("c", ConversationKind.Direct, ["u-me", "u-you"], T0);
        list.Set(new UserConversation(info, 1, 0));

        var changed = list.TakeChanged();
        Assert.Equal(1, Assert.Single(changed).LastSeq);
        Assert.Empty(list.TakeChanged());

        list.Apply(new UpdatePointer(2, UpdateKind.Message, "c", 2, false));
        list.Restore(changed); // the save of the first change failed
        Assert.Equal(2, Assert.Single(list.TakeChanged()).LastSeq);
    }

    [Fact]
    public void LivenessReports_TellOnlyConversationsHoldingTheOldAnswer_AndForgetOldOnes()
    {
        var time = new FakeTimeProvider(T0);
        var reports = new LivenessReports(TimeSpan.FromMinutes(20), time);
        reports.Record("c1", live: false);
        reports.Record("c2", live: true);

        Assert.Equal(["c1"], reports.TakeStale(live: true));
        Assert.Empty(reports.TakeStale(live: true));

        time.Advance(TimeSpan.FromMinutes(21));
        reports.Record("c3", live: true);
        Assert.Equal(["c3"], reports.TakeStale(live: false));
        Assert.Equal(1, reports.Count);
    }

    [Fact]
    public void MemberLiveness_ListsOnlyOtherMembersKnownOffline()
    {
        var liveness = new MemberLiveness();
        liveness.Set("a", false);
        liveness.Set("b", false);
        liveness.Set("c", true);

        Assert.Equal(["b"], liveness.OfflineOthers(["a", "b", "c", "d"], senderId: "a"));
    }

    [Fact]
    public void PendingAcks_SettleOnTheSendersDeliveryOnly()
    {
        var acks = new PendingAcks();
        var fromA = new PendingSend(new NewMessage("a", "m1", "x", T0));
        var fromB = new PendingSend(new NewMessage("b", "m1", "y", T0));
        var retryOfA = new PendingSend(new NewMessage("a", "m0", "z", T0));
        ChatMessage m1 = new("c", 1, "a", "m1", "x", T0), m2 = new("c", 2, "b", "m1", "y", T0), m0 = new("c", 1, "a", "m0", "z", T0);
        var ready = new List<ReadyAck>();
        acks.AwaitNew(m1, fromA);
        acks.AwaitNew(m2, fromB);
        acks.AwaitDuplicate(m0, retryOfA, senderDeliveredTo: 0, ready);
        Assert.Empty(ready);

        acks.TakeSettled("b", [m1, m2], new DeliveryReceipt([7, 8], true), ready); // B's log: only B's send settles
        Assert.Equal([(fromB, 8L, false)], ready.Select(r => (r.Send, r.UserSeq, r.Duplicate)));

        ready.Clear();
        acks.TakeSettled("a", [m1, m2], new DeliveryReceipt([3, 4], false), ready);
        Assert.Equal([(fromA, 3L, false), (retryOfA, 0L, true)], ready.Select(r => (r.Send, r.UserSeq, r.Duplicate)));
        Assert.Equal(0, acks.Count);

        // A retry whose original its sender already holds is answered at once.
        ready.Clear();
        var lateRetry = new PendingSend(new NewMessage("a", "m0", "z", T0));
        acks.AwaitDuplicate(m0, lateRetry, senderDeliveredTo: 2, ready);
        Assert.Equal([(lateRetry, 0L, true)], ready.Select(r => (r.Send, r.UserSeq, r.Duplicate)));
        Assert.Equal(0, acks.Count);
    }
}
