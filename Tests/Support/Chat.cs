using Messenger.Client;

namespace Messenger.Tests.Support;

/// <summary>A registered user with logged-in devices, against a real server.</summary>
public sealed record ChatUser(User User, string Password, IReadOnlyList<Session> Sessions)
{
    public string Id => User.UserId;
    public string Username => User.Username;
}

/// <summary>Helpers that drive the real server the way an app would.</summary>
public static class Chat
{
    public static string NewUsername() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Registers a user and logs in its devices, as an app does: a request answered <c>unavailable</c> (a busy or
    /// starting cluster) is retried, and a retried registration that finds the name taken was the first attempt
    /// succeeding unseen (the name is fresh), so the user is read back through a login.
    /// </summary>
    public static async Task<ChatUser> NewUserAsync(Uri server, int devices = 1)
    {
        using var http = new MessengerHttpClient(server);
        var username = NewUsername();
        const string password = "correct horse battery";
        var user = await RetryUnavailableAsync(async attempt =>
        {
            try
            {
                return await http.RegisterAsync(username, password);
            }
            catch (MessengerClientException ex) when (ex.Code == "username_taken" && attempt > 1)
            {
                var session = await http.LoginAsync(username, password, "device-0");
                using var me = new MessengerHttpClient(server, session.Token);
                return await me.GetMeAsync();
            }
        });
        var sessions = new List<Session>();
        for (var i = 0; i < devices; i++) sessions.Add(await RetryUnavailableAsync(_ => http.LoginAsync(username, password, $"device-{i}")));
        return new ChatUser(user, password, sessions);
    }

    /// <summary>Runs <paramref name="request"/> (given its attempt number, from 1) up to 5 times while it is answered <c>unavailable</c>.</summary>
    private static async Task<T> RetryUnavailableAsync<T>(Func<int, Task<T>> request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await request(attempt);
            }
            catch (MessengerClientException ex) when (ex.Code == "unavailable" && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt));
            }
        }
    }

    public static MessengerHttpClient Http(Uri server, Session session) => new(server, session.Token);

    public static Task<MessengerClient> ConnectAsync(Uri server, Session session, long cursor = 0) =>
        MessengerClient.ConnectAsync(server, session.Token, new MessengerClientOptions { InitialCursor = cursor, RequestTimeout = TimeSpan.FromSeconds(30) });

    public static async Task<string> OpenDirectAsync(Uri server, ChatUser a, ChatUser b)
    {
        using var http = Http(server, a.Sessions[0]);
        return (await http.OpenDirectAsync(b.Id)).ConversationId;
    }

    /// <summary>Reads updates until <paramref name="done"/> says enough, or fails after <paramref name="timeout"/>.</summary>
    public static async Task<List<Update>> CollectAsync(MessengerClient device, Func<List<Update>, bool> done, TimeSpan? timeout = null)
    {
        var received = new List<Update>();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            while (!done(received))
            {
                received.Add(await device.Updates.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"device {device.DeviceId} got {received.Count} updates before the timeout (cursor {device.Cursor}); last: {received.LastOrDefault()}");
        }
        return received;
    }

    /// <summary>Collects until <paramref name="count"/> message updates of <paramref name="conversationId"/> arrived.</summary>
    public static Task<List<Update>> CollectMessagesAsync(MessengerClient device, string conversationId, int count, TimeSpan? timeout = null) =>
        CollectAsync(device, list => list.Count(u => u.Kind == "message" && u.ConversationId == conversationId) >= count, timeout);

    /// <summary>Every update's userSeq follows the previous one by exactly 1.</summary>
    public static void AssertGapless(IReadOnlyList<Update> updates, long startAfter = 0)
    {
        var expected = startAfter + 1;
        foreach (var update in updates)
        {
            Assert.Equal(expected, update.UserSeq);
            expected++;
        }
    }

    /// <summary>
    /// Every device saw the same messages of <paramref name="conversationId"/> in the same order, with
    /// gapless <c>userSeq</c>s, and every ack names the seq its message has there.
    /// </summary>
    public static void AssertOneOrderEverywhere(IReadOnlyList<List<Update>> views, string conversationId, IEnumerable<Ack> acks)
    {
        var reference = views[0].Where(u => u.Kind == "message" && u.ConversationId == conversationId)
            .Select(u => (u.Seq, u.Message!.ClientMsgId, u.Message.Text)).ToList();
        foreach (var view in views)
        {
            AssertGapless(view);
            Assert.Equal(reference, view.Where(u => u.Kind == "message" && u.ConversationId == conversationId)
                .Select(u => (u.Seq, u.Message!.ClientMsgId, u.Message.Text)));
        }
        var seqByClientId = reference.ToDictionary(r => r.ClientMsgId, r => r.Seq);
        Assert.All(acks, a => Assert.Equal(seqByClientId[a.ClientMsgId], a.Seq));
    }

    /// <summary>A conversation's whole history, page by page; asserts seqs 1..N without a gap and each clientMsgId once.</summary>
    public static async Task<List<Message>> ReadHistoryCheckedAsync(MessengerHttpClient http, string conversationId)
    {
        var history = new List<Message>();
        HistoryPage page;
        do
        {
            page = await http.GetHistoryAsync(conversationId, after: history.Count == 0 ? 0 : history[^1].Seq, limit: 500);
            history.AddRange(page.Messages);
        }
        while (page.HasMore);
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(m => m.Seq));
        Assert.Equal(history.Count, history.Select(m => m.ClientMsgId).Distinct().Count());
        return history;
    }
}
