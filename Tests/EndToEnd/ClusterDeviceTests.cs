using System.Net.WebSockets;
using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>Logouts in a cluster: every gateway refuses a logged-out token at once, whichever gateway took the logout.</summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterDeviceTests(LocalClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task DeviceLoggedOutThroughGatewayOne_IsRefusedAtOnceOnGatewayTwo_WhichHadAcceptedItsToken()
    {
        var g1 = Cluster.Gateway(1);
        var g2 = Cluster.Gateway(2);
        var user = await Chat.NewUserAsync(g1, devices: 3);
        var (remaining, socketDevice, restDevice) = (user.Sessions[0], user.Sessions[1], user.Sessions[2]);
        // Gateway 2 accepted both tokens a moment ago (its copy of the grants is fresh), and holds one device's socket.
        using (var rest = Chat.Http(g2, restDevice)) await rest.GetMeAsync();
        using (var rest = Chat.Http(g2, socketDevice)) await rest.GetMeAsync();
        await using var socket = await RawSocket.ConnectAsync(g2, socketDevice.Token);
        using var viaG1 = Chat.Http(g1, remaining);

        // A device gateway 2 knows only from REST: nothing but the pushed grants can tell it.
        await viaG1.LogOutDeviceAsync(restDevice.DeviceId);
        await TokenChecks.AssertRefusedEverywhereAsync(g2, restDevice.Token);
        await TokenChecks.AssertRefusedEverywhereAsync(g1, restDevice.Token);

        // A device with a socket on gateway 2: refused there too, and the socket closed.
        await viaG1.LogOutDeviceAsync(socketDevice.DeviceId);
        await TokenChecks.AssertRefusedEverywhereAsync(g2, socketDevice.Token);
        var (_, status, reason) = await socket.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(((WebSocketCloseStatus)4001, "logged_out"), (status, reason));

        using (var stillIn = Chat.Http(g2, remaining)) Assert.Equal(user.Id, (await stillIn.GetMeAsync()).UserId);
        // The device logs in again through gateway 2 and is let in by gateway 1.
        using var anonymous = new Messenger.Client.MessengerHttpClient(g2);
        var again = await anonymous.LoginAsync(user.Username, user.Password, restDevice.DeviceId);
        using (var back = Chat.Http(g1, again)) Assert.Equal(user.Id, (await back.GetMeAsync()).UserId);
    }
}
