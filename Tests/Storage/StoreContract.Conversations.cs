using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>Conversations: metadata, the conversation log, reads by key, fan-out marks.</summary>
public abstract partial class StoreContract
{
    [Fact]
    public async Task CreateConversation_Twice_IsIdempotentAndReturnsMembers()
    {
        var info = new ConversationInfo("d:u-a:u-b", ConversationKind.Direct, ["u-a", "u-b"], T0);

        await Conversations.CreateConversationAsync(info);
        await Conversations.CreateConversationAsync(info with { Members = ["u-a", "u-b", "u-c"], CreatedAt = T0.AddDays(1) });

        var record = await Conversations.GetConversationAsync(info.ConversationId);
        Assert.NotNull(record);
        Assert.Equal(info.ConversationId, record.Info.ConversationId);
        Assert.Equal(ConversationKind.Direct, record.Info.Kind);
        Assert.Equal(T0, record.Info.CreatedAt);
        Assert.Equal(["u-a", "u-b"], Sorted(record.Info.Members));
        Assert.Equal(0, record.LastSeq);
        Assert.Equal(0, record.FannedOutSeq);
    }

    [Fact]
    public async Task GetConversation_Unknown_ReturnsNull()
    {
        Assert.Null(await Conversations.GetConversationAsync("d:u-x:u-y"));
    }

    [Fact]
    public async Task AppendMessages_NewMessages_GetConsecutiveSeqsFromLastSeqPlusOne()
    {
        var c = await NewConversationAsync("u-a", "u-b");

        var first = await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "one"), Message("u-b", "m1", "two")]);
        var second = await Conversations.AppendMessagesAsync(c, 2, [Message("u-a", "m2", "three")]);

        Assert.Equal([1L, 2L], first.Select(r => r.Message.Seq));
        Assert.Equal([3L], second.Select(r => r.Message.Seq));
        Assert.All(first.Concat(second), r => Assert.False(r.Duplicate));
        Assert.Equal(new ChatMessage(c, 1, "u-a", "m1", "one", T0), first[0].Message);
        Assert.Equal(3, (await Conversations.GetConversationAsync(c))!.LastSeq);
        Assert.Equal(["one", "two", "three"], (await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task AppendMessages_RetryOfCommittedMessage_ReturnsOriginalAsDuplicateWithoutConsumingSeq()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        var original = (await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "hello")]))[0].Message;

        var results = await Conversations.AppendMessagesAsync(c, 1,
            [Message("u-a", "m1", "hello again", T0.AddSeconds(5)), Message("u-a", "m2", "next")]);

        Assert.True(results[0].Duplicate);
        Assert.Equal(original, results[0].Message);
        Assert.False(results[1].Duplicate);
        Assert.Equal(2, results[1].Message.Seq);
        Assert.Equal(2, (await Conversations.GetConversationAsync(c))!.LastSeq);
    }

    [Fact]
    public async Task AppendMessages_OnlyDuplicates_LeavesLastSeqUnchanged()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "hello")]);

        var results = await Conversations.AppendMessagesAsync(c, 1, [Message("u-a", "m1", "hello")]);

        Assert.True(Assert.Single(results).Duplicate);
        Assert.Equal(1, (await Conversations.GetConversationAsync(c))!.LastSeq);
        Assert.Single(await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10));
    }

    [Fact]
    public async Task AppendMessages_DuplicateWithinSameBatch_ComesBackAsDuplicateOfTheFirst()
    {
        var c = await NewConversationAsync("u-a", "u-b");

        var results = await Conversations.AppendMessagesAsync(c, 0,
            [Message("u-a", "m1", "first"), Message("u-b", "m1", "other sender"), Message("u-a", "m1", "first, retried")]);

        Assert.False(results[0].Duplicate);
        Assert.False(results[1].Duplicate);
        Assert.True(results[2].Duplicate);
        Assert.Equal(results[0].Message, results[2].Message);
        Assert.Equal([1L, 2L, 1L], results.Select(r => r.Message.Seq));
        Assert.Equal(2, (await Conversations.GetConversationAsync(c))!.LastSeq);
    }

    [Fact]
    public async Task AppendMessages_SameClientMsgIdFromDifferentSenders_AreDifferentMessages()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "same", "from a")]);

        var result = Assert.Single(await Conversations.AppendMessagesAsync(c, 1, [Message("u-b", "same", "from b")]));

        Assert.False(result.Duplicate);
        Assert.Equal(2, result.Message.Seq);
    }

    [Fact]
    public async Task AppendMessages_AnyUnicodeText_ReadsBackExactly_AndIsFoundAgainByItsClientMsgId()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        // Accents, CJK, an emoji (a surrogate pair in UTF-16), line breaks, a single character, and a long text.
        string[] texts = ["é ü ß", "你好，世界", "🚀 launch 👩‍💻", "line 1\r\nline 2\n\ttab", "x", new string('长', 4000)];
        var sent = texts.Select((text, i) => Message(i % 2 == 0 ? "u-a" : "u-b", $"ü-{i}-🚀", text, T0.AddMilliseconds(i))).ToArray();
        await Conversations.AppendMessagesAsync(c, 0, sent);

        var read = await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10);
        Assert.Equal(sent.Select((m, i) => m.At(c, i + 1)), read);
        // A retry matches the stored clientMsgId byte for byte (the unique index), so it is a duplicate, not a new message.
        var retry = Assert.Single(await Conversations.AppendMessagesAsync(c, texts.Length, [sent[2]]));
        Assert.True(retry.Duplicate);
        Assert.Equal(read[2], retry.Message);
    }

    [Theory]
    [InlineData(1)] // stale: another writer appended since
    [InlineData(5)] // ahead: would leave a gap
    public async Task AppendMessages_WrongLastSeq_ThrowsConflictAndChangesNothing(long lastSeq)
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Conversations.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "one"), Message("u-a", "m2", "two")]);

        await Assert.ThrowsAsync<StoreConflictException>(() =>
            Conversations.AppendMessagesAsync(c, lastSeq, [Message("u-b", "m1", "forked")]));

        Assert.Equal(2, (await Conversations.GetConversationAsync(c))!.LastSeq);
        Assert.Equal(["one", "two"], (await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10)).Select(m => m.Text));
        // The rejected message left no trace: appending it properly makes a new message.
        var retry = Assert.Single(await Conversations.AppendMessagesAsync(c, 2, [Message("u-b", "m1", "forked")]));
        Assert.False(retry.Duplicate);
        Assert.Equal(3, retry.Message.Seq);
    }

    [Fact]
    public async Task ReadMessages_Before_ReturnsNearestBelowCursorInAscendingOrder()
    {
        var c = await ConversationWithMessagesAsync(10);

        var page = await Conversations.ReadMessagesAsync(c, 8, HistoryDirection.Before, 3);

        Assert.Equal([5L, 6L, 7L], page.Select(m => m.Seq));
        Assert.Equal([1L, 2L], (await Conversations.ReadMessagesAsync(c, 3, HistoryDirection.Before, 50)).Select(m => m.Seq));
        Assert.Equal([8L, 9L, 10L], (await Conversations.ReadMessagesAsync(c, 11, HistoryDirection.Before, 3)).Select(m => m.Seq));
        Assert.Empty(await Conversations.ReadMessagesAsync(c, 1, HistoryDirection.Before, 10));
    }

    [Fact]
    public async Task ReadMessages_After_ReturnsNearestAboveCursorInAscendingOrder()
    {
        var c = await ConversationWithMessagesAsync(10);

        var page = await Conversations.ReadMessagesAsync(c, 3, HistoryDirection.After, 4);

        Assert.Equal([4L, 5L, 6L, 7L], page.Select(m => m.Seq));
        Assert.Equal([9L, 10L], (await Conversations.ReadMessagesAsync(c, 8, HistoryDirection.After, 50)).Select(m => m.Seq));
        Assert.Empty(await Conversations.ReadMessagesAsync(c, 10, HistoryDirection.After, 10));
    }

    [Fact]
    public async Task ReadMessages_ReturnsMessagesAsCommitted()
    {
        var c = await ConversationWithMessagesAsync(3);

        var message = Assert.Single(await Conversations.ReadMessagesAsync(c, 1, HistoryDirection.After, 1));

        Assert.Equal(new ChatMessage(c, 2, "u-b", "m2", "text 2", T0.AddMilliseconds(2)), message);
    }

    [Fact]
    public async Task ReadMessages_OtherConversation_IsNotMixedIn()
    {
        var c1 = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var c2 = await ConversationWithMessagesAsync(2, "u-a", "u-c");

        Assert.All(await Conversations.ReadMessagesAsync(c1, 0, HistoryDirection.After, 10), m => Assert.Equal(c1, m.ConversationId));
        Assert.Equal(2, (await Conversations.ReadMessagesAsync(c2, 100, HistoryDirection.Before, 10)).Count);
    }

    [Fact]
    public async Task ReadMessagesByKey_ReturnsTheNamedMessagesOfManyConversationsInKeyOrder()
    {
        var c1 = await ConversationWithMessagesAsync(5, "u-a", "u-b");
        var c2 = await ConversationWithMessagesAsync(3, "u-a", "u-c");
        var all1 = await Conversations.ReadMessagesAsync(c1, 0, HistoryDirection.After, 10);
        var all2 = await Conversations.ReadMessagesAsync(c2, 0, HistoryDirection.After, 10);

        var found = await Conversations.ReadMessagesByKeyAsync(
            [new(c2, 3), new(c1, 1), new(c1, 4), new(c2, 1), new(c1, 5)]);

        Assert.Equal([all2[2], all1[0], all1[3], all2[0], all1[4]], found);
    }

    [Fact]
    public async Task ReadMessagesByKey_LeavesOutKeysNamingNoMessage()
    {
        var c = await ConversationWithMessagesAsync(2);

        var found = await Conversations.ReadMessagesByKeyAsync([new(c, 2), new(c, 7), new("d:u-x:u-y", 1), new(c, 1)]);

        Assert.Equal([2L, 1L], found.Select(m => m.Seq));
        Assert.Empty(await Conversations.ReadMessagesByKeyAsync([]));
    }

    [Fact]
    public async Task MarkMemberDeleted_NamesTheMemberInGetConversation_KeepingMembersAndLog()
    {
        var c = await ConversationWithMessagesAsync(2, "u-a", "u-b");
        var other = await NewConversationAsync("u-a", "u-c");
        Assert.Empty((await Conversations.GetConversationAsync(c))!.DeletedMembers);

        await Conversations.MarkMemberDeletedAsync(c, "u-a");
        await Conversations.MarkMemberDeletedAsync(c, "u-a");
        await Conversations.MarkMemberDeletedAsync(c, "u-not-a-member");

        var record = await Conversations.GetConversationAsync(c);
        Assert.Equal(["u-a"], record!.DeletedMembers);
        Assert.Equal(["u-a", "u-b"], Sorted(record.Info.Members));
        Assert.Equal(2, record.LastSeq);
        Assert.Equal(["text 1", "text 2"], (await Conversations.ReadMessagesAsync(c, 0, HistoryDirection.After, 10)).Select(m => m.Text));
        Assert.Empty((await Conversations.GetConversationAsync(other))!.DeletedMembers);
        await ReopenAsync();
        Assert.Equal(["u-a"], (await Conversations.GetConversationAsync(c))!.DeletedMembers);
    }

    // ---- fan-out marks ----

    [Fact]
    public async Task SetFannedOut_NeverMovesBack()
    {
        var c = await ConversationWithMessagesAsync(5);

        await Conversations.SetFannedOutAsync(c, 4);
        await Conversations.SetFannedOutAsync(c, 2);

        Assert.Equal(4, (await Conversations.GetConversationAsync(c))!.FannedOutSeq);
    }

    [Fact]
    public async Task ListConversationsPendingFanOut_ListsExactlyTheConversationsBehindTheirLog()
    {
        var done = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var behind = await ConversationWithMessagesAsync(3, "u-a", "u-c");
        var untouched = await ConversationWithMessagesAsync(2, "u-a", "u-d");
        var empty = await NewConversationAsync("u-a", "u-e");
        await Conversations.SetFannedOutAsync(done, 3);
        await Conversations.SetFannedOutAsync(behind, 2);

        var pending = await Conversations.ListConversationsPendingFanOutAsync(null, 100);

        Assert.Equal([behind, untouched], pending.Order(StringComparer.Ordinal));
        Assert.Equal(pending.Order(StringComparer.Ordinal), pending); // ascending
        Assert.DoesNotContain(empty, pending);
        Assert.Single(await Conversations.ListConversationsPendingFanOutAsync(null, 1));
    }

    [Fact]
    public async Task ListConversationsPendingFanOut_PagesFromTheCursor_VisitingEachOnceInOrder()
    {
        var pending = new List<string>();
        for (var i = 0; i < 5; i++) pending.Add(await ConversationWithMessagesAsync(1, "u-a", $"u-p{i}"));
        var done = await ConversationWithMessagesAsync(1, "u-a", "u-done");
        await Conversations.SetFannedOutAsync(done, 1);
        pending.Sort(StringComparer.Ordinal);

        var visited = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await Conversations.ListConversationsPendingFanOutAsync(after, 2);
            Assert.True(page.Count <= 2);
            Assert.All(page, id => Assert.True(after is null || string.CompareOrdinal(id, after) > 0, $"{id} is not after {after}"));
            visited.AddRange(page);
            if (page.Count < 2) break;
            after = page[^1];
        }

        Assert.Equal(pending, visited);
        Assert.Empty(await Conversations.ListConversationsPendingFanOutAsync(pending[^1], 10));
        Assert.Equal(pending[3..], await Conversations.ListConversationsPendingFanOutAsync(pending[2], 10));
    }

    [Fact]
    public async Task ListConversationsPendingFanOut_ResumedByPendingFanOuts_EveryOneOnce_PastAFailure()
    {
        var pending = new List<string>();
        for (var i = 0; i < 7; i++) pending.Add(await ConversationWithMessagesAsync(1, "u-a", $"u-r{i}"));
        var resumed = new System.Collections.Concurrent.ConcurrentBag<string>();
        var failing = pending[2];

        var count = await Messenger.Grains.Conversations.PendingFanOuts.ResumeAllAsync(Conversations, id =>
        {
            resumed.Add(id);
            return id == failing ? Task.FromException(new InvalidOperationException("grain unavailable")) : Task.CompletedTask;
        }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, pageSize: 3);

        Assert.Equal(7, count);
        Assert.Equal(pending.Order(StringComparer.Ordinal), resumed.Order(StringComparer.Ordinal));
    }
}
