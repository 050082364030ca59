using System.Net.WebSockets;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// A user's devices through the real gateway: the list, logging one out (its token refused at once on every
/// way in, its socket and polls closed, the other devices untouched) and logging in again.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class DeviceTests(SqliteServerFixture fixture)
{
    private Uri Url => fixture.Url;

    private static async Task<(ChatUser User, Session Laptop, Session Phone)> UserWithTwoDevicesAsync(Uri server)
    {
        var user = await Chat.NewUserAsync(server, devices: 0);
        using var http = new MessengerHttpClient(server);
        var laptop = await http.LoginAsync(user.Username, user.Password, "laptop", "Alice's laptop");
        var phone = await http.LoginAsync(user.Username, user.Password, "phone", "Alice's phone");
        return (user, laptop, phone);
    }

    [Fact]
    public async Task ListDevices_AfterTwoLogins_ShowsBoth_TheCallingOneCurrent_AndWhichIsConnected()
    {
        var (_, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        await using var phoneSocket = await RawSocket.ConnectAsync(Url, phone.Token);
        using var laptopHttp = Chat.Http(Url, laptop);
        using var phoneHttp = Chat.Http(Url, phone);

        var seenByLaptop = await laptopHttp.ListDevicesAsync();
        var seenByPhone = await phoneHttp.ListDevicesAsync();

        Assert.Equal(["laptop", "phone"], seenByLaptop.Select(d => d.DeviceId).Order());
        var laptopEntry = seenByLaptop.Single(d => d.DeviceId == "laptop");
        var phoneEntry = seenByLaptop.Single(d => d.DeviceId == "phone");
        Assert.Equal(("Alice's laptop", true, false), (laptopEntry.Name, laptopEntry.Current, laptopEntry.Live));
        Assert.Equal(("Alice's phone", false, true), (phoneEntry.Name, phoneEntry.Current, phoneEntry.Live));
        Assert.True(phoneEntry.LastActiveAt >= phoneEntry.CreatedAt);
        Assert.Equal("phone", Assert.Single(seenByPhone, d => d.Current).DeviceId);
    }

    [Fact]
    public async Task LogOutDevice_ClosesItsSocketWith4001_AndItsPoll_RefusesItsTokenAtOnce_WhileTheOtherDeviceWorks()
    {
        var (user, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        var other = await Chat.NewUserAsync(Url);
        var conversation = await Chat.OpenDirectAsync(Url, other, user);
        await using var laptopSocket = await RawSocket.ConnectAsync(Url, laptop.Token);
        await using var phoneSocket = await RawSocket.ConnectAsync(Url, phone.Token);
        using var phoneHttp = Chat.Http(Url, phone);
        var phonePoll = phoneHttp.PollAsync(0, wait: TimeSpan.FromSeconds(20)); // held: nothing to answer yet
        using var laptopHttp = Chat.Http(Url, laptop);

        await laptopHttp.LogOutDeviceAsync("phone");
        // What the logged-out socket still sends while it is being closed reaches nothing.
        try
        {
            await phoneSocket.SendTextAsync($$"""{"type":"send","id":"late","conversationId":"{{conversation}}","clientMsgId":"late","text":"after my logout"}""");
        }
        catch (WebSocketException)
        {
            // Already closed: nothing was sent.
        }

        // Refused at once: the logout answered only after the gateway had the change.
        await TokenChecks.AssertRefusedEverywhereAsync(Url, phone.Token);
        var (frames, status, reason) = await phoneSocket.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(((WebSocketCloseStatus)4001, "logged_out"), (status, reason));
        Assert.DoesNotContain(frames, f => f.TryGetProperty("id", out var id) && id.GetString() == "late");
        var poll = await Assert.ThrowsAsync<MessengerClientException>(() => phonePoll.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(("logged_out", 401), (poll.Code, poll.HttpStatus));

        Assert.Equal(user.Id, (await laptopHttp.GetMeAsync()).UserId);
        await laptopSocket.AssertUsableAsync();
        await laptopHttp.SendAsync(conversation, "after-logout", "still here");
        Assert.DoesNotContain((await laptopHttp.GetHistoryAsync(conversation)).Messages, m => m.Text == "after my logout");
        Assert.Equal("laptop", Assert.Single(await laptopHttp.ListDevicesAsync()).DeviceId);
    }

    [Fact]
    public async Task LoggedOutDevice_LogsInAgainWithTheSameId_AndWorks_WhileItsOldTokenStaysRefused()
    {
        var (user, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        using (var laptopHttp = Chat.Http(Url, laptop)) await laptopHttp.LogOutDeviceAsync("phone");

        using var anonymous = new MessengerHttpClient(Url);
        var again = await anonymous.LoginAsync(user.Username, user.Password, "phone");

        using var phoneHttp = Chat.Http(Url, again);
        Assert.Equal(user.Id, (await phoneHttp.GetMeAsync()).UserId);
        await using (var socket = await RawSocket.ConnectAsync(Url, again.Token)) await socket.AssertUsableAsync();
        await phoneHttp.PollAsync(0, wait: TimeSpan.Zero);
        var phoneEntry = (await phoneHttp.ListDevicesAsync()).Single(d => d.DeviceId == "phone");
        Assert.True(phoneEntry.Current);
        Assert.Null(phoneEntry.Name); // the record went with the logout, its name too
        await TokenChecks.AssertRefusedEverywhereAsync(Url, phone.Token);
    }

    [Fact]
    public async Task LogOut_TheCallingDevice_EndsOnlyIt()
    {
        var (_, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        using var phoneHttp = Chat.Http(Url, phone);

        await phoneHttp.LogOutAsync();

        await TokenChecks.AssertRefusedEverywhereAsync(Url, phone.Token);
        using var laptopHttp = Chat.Http(Url, laptop);
        Assert.Equal("laptop", Assert.Single(await laptopHttp.ListDevicesAsync()).DeviceId);
    }

    [Fact]
    public async Task MessengerClient_WhenItsDeviceIsLoggedOut_StopsReconnectingAndSaysSo_OnBothTransports()
    {
        var (user, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        using var anonymous = new MessengerHttpClient(Url);
        var tablet = await anonymous.LoginAsync(user.Username, user.Password, "tablet");
        await using var overSocket = await Chat.ConnectAsync(Url, phone);
        await using var overPoll = await MessengerClient.ConnectAsync(Url, tablet.Token, new MessengerClientOptions { Transport = ClientTransport.LongPoll });
        var socketLoggedOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pollLoggedOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        overSocket.LoggedOut += () => socketLoggedOut.TrySetResult();
        overPoll.LoggedOut += () => pollLoggedOut.TrySetResult();
        using var laptopHttp = Chat.Http(Url, laptop);

        await laptopHttp.LogOutDeviceAsync("phone");
        await laptopHttp.LogOutDeviceAsync("tablet");

        await Task.WhenAll(socketLoggedOut.Task, pollLoggedOut.Task).WaitAsync(TimeSpan.FromSeconds(30));
        foreach (var client in new[] { overSocket, overPoll })
        {
            Assert.True(client.IsLoggedOut);
            Assert.Equal(1, client.Connections); // no reconnect after the logout
            var send = await Assert.ThrowsAsync<MessengerClientException>(() => client.PingAsync());
            Assert.Equal("logged_out", send.Code);
            var updates = await Assert.ThrowsAsync<MessengerClientException>(() => client.Updates.Completion);
            Assert.Equal("logged_out", updates.Code);
        }
        // A client started with a token already refused says so instead of retrying forever.
        var start = await Assert.ThrowsAsync<MessengerClientException>(() => Chat.ConnectAsync(Url, phone).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("logged_out", start.Code);
    }

    [Fact]
    public async Task BadInput_UnknownDevice404_TooLongName400_AndNothingChanges()
    {
        var (user, laptop, phone) = await UserWithTwoDevicesAsync(Url);
        using var laptopHttp = Chat.Http(Url, laptop);

        var unknown = await Assert.ThrowsAsync<MessengerClientException>(() => laptopHttp.LogOutDeviceAsync("no-such-device"));
        Assert.Equal(("device_not_found", 404), (unknown.Code, unknown.HttpStatus));
        using var anonymous = new MessengerHttpClient(Url);
        var longName = await Assert.ThrowsAsync<MessengerClientException>(() => anonymous.LoginAsync(user.Username, user.Password, "tv", new string('x', 65)));
        Assert.Equal(("invalid_request", 400), (longName.Code, longName.HttpStatus));
        var emptyName = await Assert.ThrowsAsync<MessengerClientException>(() => anonymous.LoginAsync(user.Username, user.Password, "tv", ""));
        Assert.Equal("invalid_request", emptyName.Code);

        Assert.Equal(["laptop", "phone"], (await laptopHttp.ListDevicesAsync()).Select(d => d.DeviceId).Order());
        using var phoneHttp = Chat.Http(Url, phone);
        Assert.Equal(user.Id, (await phoneHttp.GetMeAsync()).UserId);
    }
}
