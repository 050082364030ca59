using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IMessageStore"/> backend must have. A backend's test class derives
/// from this and says only how to open a store over a fresh, per-test data set; the tests themselves
/// use nothing but <see cref="IMessageStore"/>. Accounts, conversations and conversation logs here;
/// the user update log in <c>MessageStoreContract.UserLog.cs</c>.
/// </summary>
public abstract partial class MessageStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    /// <summary>The store under test, migrated.</summary>
    protected IMessageStore Store { get; private set; } = null!;

    /// <summary>
    /// A new store instance over this test's data set: every call within one test sees the same
    /// data (that is how reopening is tested); each test gets a data set of its own.
    /// </summary>
    protected abstract IMessageStore OpenStore();

    /// <summary>Removes this test's data set; every store opened by the test is already disposed.</summary>
    protected abstract Task DeleteDataAsync();

    public async Task InitializeAsync()
    {
        Store = OpenStore();
        await Store.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await CloseAsync(Store);
        await DeleteDataAsync();
    }

    /// <summary>Disposes the current store and opens (and migrates) a new one over the same data.</summary>
    protected async Task ReopenAsync()
    {
        await CloseAsync(Store);
        Store = OpenStore();
        await Store.MigrateAsync();
    }

    private static async Task CloseAsync(IMessageStore store)
    {
        if (store is IAsyncDisposable disposable) await disposable.DisposeAsync();
        else if (store is IDisposable syncDisposable) syncDisposable.Dispose();
    }

    // ---- migrations ----

    [Fact]
    public async Task Migrate_RunTwice_Succeeds()
    {
        await Store.MigrateAsync();
        await Store.MigrateAsync();

        Assert.True(await Store.CreateAccountAsync(Account("alice")));
    }

    [Fact]
    public async Task Migrate_ReopenedStore_KeepsData()
    {
        var alice = Account("alice");
        await Store.CreateAccountAsync(alice);
        var conversation = await NewConversationAsync(alice.Profile.UserId, "u-bob");
        await Store.AppendMessagesAsync(conversation, 0, [Message("u-bob", "m1", "hi")]);

        await ReopenAsync();

        AssertAccount(alice, await Store.FindAccountAsync(alice.Profile.UserId));
        var record = await Store.GetConversationAsync(conversation);
        Assert.Equal(1, record!.LastSeq);
        Assert.Equal("hi", Assert.Single(await Store.ReadMessagesAsync(conversation, 0, HistoryDirection.After, 10)).Text);
    }

    // ---- accounts ----

    [Fact]
    public async Task CreateAccount_NewUsername_IsFoundByUsernameAndById()
    {
        var alice = Account("alice");

        Assert.True(await Store.CreateAccountAsync(alice));

        AssertAccount(alice, await Store.FindAccountByUsernameAsync("alice"));
        AssertAccount(alice, await Store.FindAccountAsync(alice.Profile.UserId));
    }

    [Fact]
    public async Task CreateAccount_TakenUsername_ReturnsFalseAndKeepsTheFirst()
    {
        var first = Account("alice");
        var second = Account("alice", hash: "other-hash");
        await Store.CreateAccountAsync(first);

        Assert.False(await Store.CreateAccountAsync(second));

        AssertAccount(first, await Store.FindAccountByUsernameAsync("alice"));
        Assert.Null(await Store.FindAccountAsync(second.Profile.UserId));
    }

    [Fact]
    public async Task FindAccount_Unknown_ReturnsNull()
    {
        Assert.Null(await Store.FindAccountByUsernameAsync("nobody"));
        Assert.Null(await Store.FindAccountAsync("u-nobody"));
    }

    // ---- conversations ----

    [Fact]
    public async Task CreateConversation_Twice_IsIdempotentAndReturnsMembers()
    {
        var info = new ConversationInfo("d:u-a:u-b", ConversationKind.Direct, ["u-a", "u-b"], T0);

        await Store.CreateConversationAsync(info);
        await Store.CreateConversationAsync(info with { Members = ["u-a", "u-b", "u-c"], CreatedAt = T0.AddDays(1) });

        var record = await Store.GetConversationAsync(info.ConversationId);
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
        Assert.Null(await Store.GetConversationAsync("d:u-x:u-y"));
    }

    // ---- conversation log ----

    [Fact]
    public async Task Append_NewMessages_GetConsecutiveSeqsFromLastSeqPlusOne()
    {
        var c = await NewConversationAsync("u-a", "u-b");

        var first = await Store.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "one"), Message("u-b", "m1", "two")]);
        var second = await Store.AppendMessagesAsync(c, 2, [Message("u-a", "m2", "three")]);

        Assert.Equal([1L, 2L], first.Select(r => r.Message.Seq));
        Assert.Equal([3L], second.Select(r => r.Message.Seq));
        Assert.All(first.Concat(second), r => Assert.False(r.Duplicate));
        Assert.Equal(new ChatMessage(c, 1, "u-a", "m1", "one", T0), first[0].Message);
        Assert.Equal(3, (await Store.GetConversationAsync(c))!.LastSeq);
        Assert.Equal(["one", "two", "three"], (await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Append_RetryOfCommittedMessage_ReturnsOriginalAsDuplicateWithoutConsumingSeq()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        var original = (await Store.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "hello")]))[0].Message;

        var results = await Store.AppendMessagesAsync(c, 1,
            [Message("u-a", "m1", "hello again", T0.AddSeconds(5)), Message("u-a", "m2", "next")]);

        Assert.True(results[0].Duplicate);
        Assert.Equal(original, results[0].Message);
        Assert.False(results[1].Duplicate);
        Assert.Equal(2, results[1].Message.Seq);
        Assert.Equal(2, (await Store.GetConversationAsync(c))!.LastSeq);
    }

    [Fact]
    public async Task Append_OnlyDuplicates_LeavesLastSeqUnchanged()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Store.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "hello")]);

        var results = await Store.AppendMessagesAsync(c, 1, [Message("u-a", "m1", "hello")]);

        Assert.True(Assert.Single(results).Duplicate);
        Assert.Equal(1, (await Store.GetConversationAsync(c))!.LastSeq);
        Assert.Single(await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10));
    }

    [Fact]
    public async Task Append_DuplicateWithinSameBatch_ComesBackAsDuplicateOfTheFirst()
    {
        var c = await NewConversationAsync("u-a", "u-b");

        var results = await Store.AppendMessagesAsync(c, 0,
            [Message("u-a", "m1", "first"), Message("u-b", "m1", "other sender"), Message("u-a", "m1", "first, retried")]);

        Assert.False(results[0].Duplicate);
        Assert.False(results[1].Duplicate);
        Assert.True(results[2].Duplicate);
        Assert.Equal(results[0].Message, results[2].Message);
        Assert.Equal([1L, 2L, 1L], results.Select(r => r.Message.Seq));
        Assert.Equal(2, (await Store.GetConversationAsync(c))!.LastSeq);
    }

    [Fact]
    public async Task Append_SameClientMsgIdFromDifferentSenders_AreDifferentMessages()
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Store.AppendMessagesAsync(c, 0, [Message("u-a", "same", "from a")]);

        var result = Assert.Single(await Store.AppendMessagesAsync(c, 1, [Message("u-b", "same", "from b")]));

        Assert.False(result.Duplicate);
        Assert.Equal(2, result.Message.Seq);
    }

    [Theory]
    [InlineData(1)] // stale: another writer appended since
    [InlineData(5)] // ahead: would leave a gap
    public async Task Append_WrongLastSeq_ThrowsConflictAndChangesNothing(long lastSeq)
    {
        var c = await NewConversationAsync("u-a", "u-b");
        await Store.AppendMessagesAsync(c, 0, [Message("u-a", "m1", "one"), Message("u-a", "m2", "two")]);

        await Assert.ThrowsAsync<StoreConflictException>(() =>
            Store.AppendMessagesAsync(c, lastSeq, [Message("u-b", "m1", "forked")]));

        Assert.Equal(2, (await Store.GetConversationAsync(c))!.LastSeq);
        Assert.Equal(["one", "two"], (await Store.ReadMessagesAsync(c, 0, HistoryDirection.After, 10)).Select(m => m.Text));
        // The rejected message left no trace: appending it properly makes a new message.
        var retry = Assert.Single(await Store.AppendMessagesAsync(c, 2, [Message("u-b", "m1", "forked")]));
        Assert.False(retry.Duplicate);
        Assert.Equal(3, retry.Message.Seq);
    }

    [Fact]
    public async Task ReadMessages_Before_ReturnsNearestBelowCursorInAscendingOrder()
    {
        var c = await ConversationWithMessagesAsync(10);

        var page = await Store.ReadMessagesAsync(c, 8, HistoryDirection.Before, 3);

        Assert.Equal([5L, 6L, 7L], page.Select(m => m.Seq));
        Assert.Equal([1L, 2L], (await Store.ReadMessagesAsync(c, 3, HistoryDirection.Before, 50)).Select(m => m.Seq));
        Assert.Equal([8L, 9L, 10L], (await Store.ReadMessagesAsync(c, 11, HistoryDirection.Before, 3)).Select(m => m.Seq));
        Assert.Empty(await Store.ReadMessagesAsync(c, 1, HistoryDirection.Before, 10));
    }

    [Fact]
    public async Task ReadMessages_After_ReturnsNearestAboveCursorInAscendingOrder()
    {
        var c = await ConversationWithMessagesAsync(10);

        var page = await Store.ReadMessagesAsync(c, 3, HistoryDirection.After, 4);

        Assert.Equal([4L, 5L, 6L, 7L], page.Select(m => m.Seq));
        Assert.Equal([9L, 10L], (await Store.ReadMessagesAsync(c, 8, HistoryDirection.After, 50)).Select(m => m.Seq));
        Assert.Empty(await Store.ReadMessagesAsync(c, 10, HistoryDirection.After, 10));
    }

    [Fact]
    public async Task ReadMessages_ReturnsMessagesAsCommitted()
    {
        var c = await ConversationWithMessagesAsync(3);

        var message = Assert.Single(await Store.ReadMessagesAsync(c, 1, HistoryDirection.After, 1));

        Assert.Equal(new ChatMessage(c, 2, "u-b", "m2", "text 2", T0.AddMilliseconds(2)), message);
    }

    [Fact]
    public async Task ReadMessages_OtherConversation_IsNotMixedIn()
    {
        var c1 = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var c2 = await ConversationWithMessagesAsync(2, "u-a", "u-c");

        Assert.All(await Store.ReadMessagesAsync(c1, 0, HistoryDirection.After, 10), m => Assert.Equal(c1, m.ConversationId));
        Assert.Equal(2, (await Store.ReadMessagesAsync(c2, 100, HistoryDirection.Before, 10)).Count);
    }

    // ---- fan-out marks ----

    [Fact]
    public async Task SetFannedOut_NeverMovesBack()
    {
        var c = await ConversationWithMessagesAsync(5);

        await Store.SetFannedOutAsync(c, 4);
        await Store.SetFannedOutAsync(c, 2);

        Assert.Equal(4, (await Store.GetConversationAsync(c))!.FannedOutSeq);
    }

    [Fact]
    public async Task ListPendingFanOut_ListsExactlyTheConversationsBehindTheirLog()
    {
        var done = await ConversationWithMessagesAsync(3, "u-a", "u-b");
        var behind = await ConversationWithMessagesAsync(3, "u-a", "u-c");
        var untouched = await ConversationWithMessagesAsync(2, "u-a", "u-d");
        var empty = await NewConversationAsync("u-a", "u-e");
        await Store.SetFannedOutAsync(done, 3);
        await Store.SetFannedOutAsync(behind, 2);

        var pending = await Store.ListConversationsPendingFanOutAsync(100);

        Assert.Equal(Sorted([behind, untouched]), Sorted(pending));
        Assert.DoesNotContain(empty, pending);
        Assert.Single(await Store.ListConversationsPendingFanOutAsync(1));
    }

    // ---- helpers ----

    private static AccountCredentials Account(string username, string hash = "hash") =>
        new(new UserProfile("u-" + Guid.NewGuid().ToString("N"), username, T0), hash);

    private static void AssertAccount(AccountCredentials expected, AccountCredentials? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Profile, actual.Profile);
        Assert.Equal(expected.PasswordHash, actual.PasswordHash);
    }

    /// <summary>A message with a millisecond-exact time, so it compares equal after a round trip.</summary>
    private static NewMessage Message(string sender, string clientMsgId, string text, DateTimeOffset? sentAt = null) =>
        new(sender, clientMsgId, text, sentAt ?? T0);

    private static string[] Sorted(IEnumerable<string> values)
    {
        var array = values.ToArray();
        Array.Sort(array, StringComparer.Ordinal);
        return array;
    }

    private async Task<string> NewConversationAsync(string userA, string userB)
    {
        var id = ConversationIds.Direct(userA, userB);
        await Store.CreateConversationAsync(new ConversationInfo(id, ConversationKind.Direct, Sorted([userA, userB]), T0));
        return id;
    }

    /// <summary>A conversation with <paramref name="count"/> messages alternating between the two users.</summary>
    private async Task<string> ConversationWithMessagesAsync(int count, string userA = "u-a", string userB = "u-b")
    {
        var c = await NewConversationAsync(userA, userB);
        var messages = new NewMessage[count];
        for (var i = 0; i < count; i++)
        {
            var seq = i + 1;
            messages[i] = Message(seq % 2 == 1 ? userA : userB, $"m{seq}", $"text {seq}", T0.AddMilliseconds(seq));
        }
        await Store.AppendMessagesAsync(c, 0, messages);
        return c;
    }
}
