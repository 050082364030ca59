using Messenger.Grains;
using Messenger.Grains.Storage;

namespace Messenger.Tests.Storage;

/// <summary>
/// The behaviour every storage backend must have, through its three stores (<see cref="IAccountStore"/>,
/// <see cref="IConversationStore"/>, <see cref="IUserLogStore"/>). A backend's test class derives from
/// this and says only how to open its storage over a fresh, per-test data set; the tests use nothing
/// but the interfaces. Every method of every store is named by at least one test
/// (<see cref="StoreContractCoverageTests"/>). Accounts and migrations here; conversations and user
/// logs in the other parts of this class.
/// </summary>
public abstract partial class StoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    /// <summary>The storage under test, migrated.</summary>
    protected MessengerStorage Storage { get; private set; } = null!;

    protected IAccountStore Accounts => Storage.Accounts;
    protected IConversationStore Conversations => Storage.Conversations;
    protected IUserLogStore UserLogs => Storage.UserLogs;

    /// <summary>
    /// New storage over this test's data set: every call within one test sees the same data (that is
    /// how reopening is tested); each test gets a data set of its own.
    /// </summary>
    protected abstract MessengerStorage OpenStorage();

    /// <summary>Removes this test's data set; every storage opened by the test is already disposed.</summary>
    protected abstract Task DeleteDataAsync();

    /// <summary>Records in every database of the data set that schema <paramref name="version"/> was applied, as a newer build would.</summary>
    protected abstract Task RecordSchemaVersionAsync(int version);

    public async Task InitializeAsync()
    {
        Storage = OpenStorage();
        await MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await Storage.DisposeAsync();
        await DeleteDataAsync();
    }

    private async Task MigrateAsync()
    {
        foreach (var schema in Storage.Schemas) await schema.MigrateAsync();
    }

    /// <summary>Disposes the current storage and opens (and migrates) new storage over the same data.</summary>
    protected async Task ReopenAsync()
    {
        await Storage.DisposeAsync();
        Storage = OpenStorage();
        await MigrateAsync();
    }

    // ---- migrations ----

    [Fact]
    public async Task Ping_MigratedStorage_AnswersForEveryDatabase()
    {
        foreach (var schema in Storage.Schemas) await schema.PingAsync();
    }

    [Fact]
    public async Task Migrate_RunTwice_Succeeds()
    {
        await MigrateAsync();
        await MigrateAsync();

        Assert.True(await Accounts.CreateAccountAsync(Account("alice")));
    }

    [Fact]
    public async Task Migrate_ReopenedStore_KeepsData()
    {
        var alice = Account("alice");
        await Accounts.CreateAccountAsync(alice);
        var conversation = await NewConversationAsync(alice.Profile.UserId, "u-bob");
        var message = (await Conversations.AppendMessagesAsync(conversation, 0, [Message("u-bob", "m1", "hi")]))[0].Message;
        await UserLogs.AppendUpdatesAsync("u-bob", [Pointer(1, message, fromSelf: true)], []);

        await ReopenAsync();

        AssertAccount(alice, await Accounts.FindAccountAsync(alice.Profile.UserId));
        var record = await Conversations.GetConversationAsync(conversation);
        Assert.Equal(1, record!.LastSeq);
        Assert.Equal("hi", Assert.Single(await Conversations.ReadMessagesAsync(conversation, 0, HistoryDirection.After, 10)).Text);
        Assert.Equal(1, (await UserLogs.LoadUserAsync("u-bob")).LastUserSeq);
    }

    [Fact]
    public async Task Migrate_SchemaNewerThanTheBuild_Refuses()
    {
        await Accounts.CreateAccountAsync(Account("alice"));
        await RecordSchemaVersionAsync(9999);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(ReopenAsync);

        Assert.Contains("at version 9999, newer than this build knows", ex.Message);
    }

    // ---- accounts ----

    [Fact]
    public async Task CreateAccount_NewUsername_IsFoundByUsernameAndById()
    {
        var alice = Account("alice");

        Assert.True(await Accounts.CreateAccountAsync(alice));

        AssertAccount(alice, await Accounts.FindAccountByUsernameAsync("alice"));
        AssertAccount(alice, await Accounts.FindAccountAsync(alice.Profile.UserId));
    }

    [Fact]
    public async Task CreateAccount_TakenUsername_ReturnsFalseAndKeepsTheFirst()
    {
        var first = Account("alice");
        var second = Account("alice", hash: "other-hash");
        await Accounts.CreateAccountAsync(first);

        Assert.False(await Accounts.CreateAccountAsync(second));

        AssertAccount(first, await Accounts.FindAccountByUsernameAsync("alice"));
        Assert.Null(await Accounts.FindAccountAsync(second.Profile.UserId));
    }

    [Fact]
    public async Task FindAccount_Unknown_ReturnsNull()
    {
        Assert.Null(await Accounts.FindAccountByUsernameAsync("nobody"));
        Assert.Null(await Accounts.FindAccountAsync("u-nobody"));
    }

    [Fact]
    public async Task FindAccountByUsername_IsExactOnTheStoredNormalisedName()
    {
        await Accounts.CreateAccountAsync(Account("alice"));

        Assert.NotNull(await Accounts.FindAccountByUsernameAsync("alice"));
        Assert.Null(await Accounts.FindAccountByUsernameAsync("alic"));
        Assert.Null(await Accounts.FindAccountByUsernameAsync("alice2"));
    }

    [Fact]
    public async Task DeleteAccount_Existing_IsFoundNeitherWay_AndItsUsernameCanBeRegisteredAgain()
    {
        var alice = Account("alice");
        var bob = Account("bob");
        await Accounts.CreateAccountAsync(alice);
        await Accounts.CreateAccountAsync(bob);

        Assert.True(await Accounts.DeleteAccountAsync(alice.Profile.UserId));

        Assert.Null(await Accounts.FindAccountAsync(alice.Profile.UserId));
        Assert.Null(await Accounts.FindAccountByUsernameAsync("alice"));
        AssertAccount(bob, await Accounts.FindAccountAsync(bob.Profile.UserId));
        var newAlice = Account("alice", hash: "new-hash");
        Assert.True(await Accounts.CreateAccountAsync(newAlice));
        AssertAccount(newAlice, await Accounts.FindAccountByUsernameAsync("alice"));
        Assert.Null(await Accounts.FindAccountAsync(alice.Profile.UserId));
    }

    [Fact]
    public async Task DeleteAccount_UnknownOrAlreadyDeleted_ReturnsFalseAndChangesNothing()
    {
        var alice = Account("alice");
        await Accounts.CreateAccountAsync(alice);
        Assert.True(await Accounts.DeleteAccountAsync(alice.Profile.UserId));
        var newAlice = Account("alice");
        await Accounts.CreateAccountAsync(newAlice);

        Assert.False(await Accounts.DeleteAccountAsync(alice.Profile.UserId));
        Assert.False(await Accounts.DeleteAccountAsync("u-nobody"));

        AssertAccount(newAlice, await Accounts.FindAccountByUsernameAsync("alice"));
        AssertAccount(newAlice, await Accounts.FindAccountAsync(newAlice.Profile.UserId));
    }

    // ---- helpers ----

    protected static AccountCredentials Account(string username, string hash = "hash") =>
        new(new UserProfile("u-" + Guid.NewGuid().ToString("N"), username, T0), hash);

    private static void AssertAccount(AccountCredentials expected, AccountCredentials? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Profile, actual.Profile);
        Assert.Equal(expected.PasswordHash, actual.PasswordHash);
    }

    /// <summary>A message with a millisecond-exact time, so it compares equal after a round trip.</summary>
    protected static NewMessage Message(string sender, string clientMsgId, string text, DateTimeOffset? sentAt = null) =>
        new(sender, clientMsgId, text, sentAt ?? T0);

    protected static UpdatePointer Pointer(long userSeq, ChatMessage message, bool fromSelf = false) =>
        new(userSeq, UpdateKind.Message, message.ConversationId, message.Seq, fromSelf);

    protected static UpdatePointer ReadMark(long userSeq, string conversationId, long seq) =>
        new(userSeq, UpdateKind.Read, conversationId, seq, FromSelf: true);

    protected static string[] Sorted(IEnumerable<string> values)
    {
        var array = values.ToArray();
        Array.Sort(array, StringComparer.Ordinal);
        return array;
    }

    protected async Task<string> NewConversationAsync(string userA, string userB)
    {
        var id = ConversationIds.Direct(userA, userB);
        await Conversations.CreateConversationAsync(new ConversationInfo(id, ConversationKind.Direct, Sorted([userA, userB]), T0));
        return id;
    }

    /// <summary>A conversation with <paramref name="count"/> messages alternating between the two users.</summary>
    protected async Task<string> ConversationWithMessagesAsync(int count, string userA = "u-a", string userB = "u-b")
    {
        var c = await NewConversationAsync(userA, userB);
        var messages = new NewMessage[count];
        for (var i = 0; i < count; i++)
        {
            var seq = i + 1;
            messages[i] = Message(seq % 2 == 1 ? userA : userB, $"m{seq}", $"text {seq}", T0.AddMilliseconds(seq));
        }
        await Conversations.AppendMessagesAsync(c, 0, messages);
        return c;
    }
}
