using System.Net.WebSockets;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Deleting an account through the real gateway: every token of the user refused, the profile and the
/// username gone, and for the other member the history exactly as it was, with sends refused.
/// </summary>
public abstract class AccountDeletionTests(ServerFixture fixture)
{
    [Collection(ServerCollection.Name)]
    public sealed class OnSqlite(SqliteServerFixture fixture) : AccountDeletionTests(fixture);

    [Collection(PostgresServerCollection.Name)]
    public sealed class OnPostgres(PostgresServerFixture fixture) : AccountDeletionTests(fixture);

    private Uri Url => fixture.Url;

    [Fact]
    public async Task DeleteAccount_RefusesEveryToken_FreesTheName_AndTheOtherMemberKeepsTheHistory_ButCannotSend()
    {
        var alice = await Chat.NewUserAsync(Url);
        var bob = await Chat.NewUserAsync(Url, devices: 2);
        var conversation = await Chat.OpenDirectAsync(Url, alice, bob);
        using var aliceHttp = Chat.Http(Url, alice.Sessions[0]);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);
        await aliceHttp.SendAsync(conversation, "a1", "hi bob");
        await bobHttp.SendAsync(conversation, "b1", "hi alice");
        await aliceHttp.SendAsync(conversation, "a2", "how are you?");
        await bobHttp.MarkReadAsync(conversation, 3);
        var historyBefore = await Chat.ReadHistoryCheckedAsync(aliceHttp, conversation);
        var aliceLogBefore = await aliceHttp.SyncAsync(0);
        await using var bobSocket = await RawSocket.ConnectAsync(Url, bob.Sessions[1].Token);
        await using var aliceSocket = await RawSocket.ConnectAsync(Url, alice.Sessions[0].Token);

        await bobHttp.DeleteAccountAsync(bob.Password);

        foreach (var session in bob.Sessions) await TokenChecks.AssertRefusedEverywhereAsync(Url, session.Token);
        var (_, status, reason) = await bobSocket.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(((WebSocketCloseStatus)4001, "logged_out"), (status, reason));
        var byName = await Assert.ThrowsAsync<MessengerClientException>(() => aliceHttp.FindUserAsync(bob.Username));
        Assert.Equal(("user_not_found", 404), (byName.Code, byName.HttpStatus));
        var byId = await Assert.ThrowsAsync<MessengerClientException>(() => aliceHttp.GetUserAsync(bob.Id));
        Assert.Equal(("user_not_found", 404), (byId.Code, byId.HttpStatus));
        using var anonymous = new MessengerHttpClient(Url);
        var login = await Assert.ThrowsAsync<MessengerClientException>(() => anonymous.LoginAsync(bob.Username, bob.Password, "device-0"));
        Assert.Equal("invalid_credentials", login.Code);

        // Alice: the same history, the same update log, the conversation still listed; sends are refused.
        Assert.Equal(historyBefore, await Chat.ReadHistoryCheckedAsync(aliceHttp, conversation));
        // (Receipts of Alice's own messages, from before the deletion, may still have arrived: they are not the deletion's.)
        Assert.Equal(aliceLogBefore.Updates.Where(u => u.Kind != "receipts"), (await aliceHttp.SyncAsync(0)).Updates.Where(u => u.Kind != "receipts"));
        Assert.Equal(conversation, Assert.Single(await aliceHttp.ListConversationsAsync()).ConversationId);
        var send = await Assert.ThrowsAsync<MessengerClientException>(() => aliceHttp.SendAsync(conversation, "a3", "bob?"));
        Assert.Equal(("user_deleted", 410), (send.Code, send.HttpStatus));
        await aliceSocket.SendTextAsync($$"""{"type":"send","id":"s1","conversationId":"{{conversation}}","clientMsgId":"a4","text":"bob??"}""");
        Assert.Equal("s1", (await aliceSocket.ExpectErrorAsync("user_deleted")).GetProperty("id").GetString());
        var presence = Assert.Single(await aliceHttp.GetPresenceAsync([bob.Id]));
        Assert.Equal((bob.Id, false, (DateTimeOffset?)null), (presence.UserId, presence.Online, presence.LastSeen));
        Assert.Equal(historyBefore.Count, (await aliceHttp.GetHistoryAsync(conversation)).LastSeq); // nothing was added

        // The name is free again, for a new account with a new id.
        var newcomer = await anonymous.RegisterAsync(bob.Username, "another password");
        Assert.NotEqual(bob.Id, newcomer.UserId);
        Assert.Equal("user_not_found", (await Assert.ThrowsAsync<MessengerClientException>(() => aliceHttp.GetUserAsync(bob.Id))).Code);
    }

    [Fact]
    public async Task DeleteAccount_WithAWrongOrMissingPassword_IsRefused_AndChangesNothing()
    {
        var bob = await Chat.NewUserAsync(Url);
        using var bobHttp = Chat.Http(Url, bob.Sessions[0]);

        var wrong = await Assert.ThrowsAsync<MessengerClientException>(() => bobHttp.DeleteAccountAsync("not the password"));
        Assert.Equal(("wrong_password", 403), (wrong.Code, wrong.HttpStatus));
        var missing = await Assert.ThrowsAsync<MessengerClientException>(() => bobHttp.DeleteAccountAsync(""));
        Assert.Equal(("invalid_request", 400), (missing.Code, missing.HttpStatus));
        using (var raw = new HttpClient { BaseAddress = Url })
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, "/v1/me");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bob.Sessions[0].Token);
            using var noBody = await raw.SendAsync(request);
            using var problem = System.Text.Json.JsonDocument.Parse(await noBody.Content.ReadAsStringAsync());
            Assert.Equal((400, "invalid_request", "'password' is required."),
                ((int)noBody.StatusCode, problem.RootElement.GetProperty("code").GetString(), problem.RootElement.GetProperty("detail").GetString()));
        }

        Assert.Equal(bob.Id, (await bobHttp.GetMeAsync()).UserId);
        using var anonymous = new MessengerHttpClient(Url);
        await anonymous.LoginAsync(bob.Username, bob.Password, "device-0");
    }
}
