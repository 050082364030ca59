using Messenger.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Messenger.Tests.Grains;

/// <summary>Devices, logouts and account deletion in the user grain, on the two-silo cluster over each backend.</summary>
public abstract class DeviceGrainTests(ClusterFixture cluster)
{
    [Collection(SqliteCluster.Name)]
    public sealed class OnSqlite(SqliteClusterFixture cluster) : DeviceGrainTests(cluster);

    [Collection(PostgresCluster.Name)]
    public sealed class OnPostgres(PostgresClusterFixture cluster) : DeviceGrainTests(cluster);

    [Fact]
    public async Task LogOutDevice_TellsEveryWatchingGatewayBeforeItReturns_AndRefusesItsTokensUntilItLogsInAgain()
    {
        var bob = await cluster.NewUserAsync();
        var user = cluster.User(bob);
        var phone = await user.LogInDeviceAsync("phone", "Bob's phone");
        var laptop = await user.LogInDeviceAsync("laptop", null);
        await using var watcher = new UpdateRecorder(cluster.Client, user, "watcher");
        var before = await user.WatchDevicesAsync(watcher.Reference, "laptop");
        Assert.True(before.Allows("phone", phone) && before.Allows("laptop", laptop));
        await using var phoneSession = await cluster.AttachAsync(bob, "phone-conn", phone, deviceId: "phone");

        await user.LogOutDeviceAsync("phone");

        // Awaited by the logout: both the gateway watching the grants and the one holding the phone's session know already.
        Assert.False(Assert.Single(watcher.Grants).Allows("phone", phone));
        Assert.True(watcher.Grants[0].Allows("laptop", laptop));
        Assert.False(Assert.Single(phoneSession.Grants).Allows("phone", phone));
        var refused = await Assert.ThrowsAsync<MessengerException>(() => user.AttachDeviceAsync("again", "phone", phone, phoneSession.Reference));
        Assert.Equal(ErrorCode.LoggedOut, refused.Code);
        Assert.Equal(["laptop"], (await user.ListDevicesAsync()).Select(d => d.DeviceId));
        var missing = await Assert.ThrowsAsync<MessengerException>(() => user.LogOutDeviceAsync("phone"));
        Assert.Equal(ErrorCode.DeviceNotFound, missing.Code);

        var again = await user.LogInDeviceAsync("phone", null);
        Assert.True(again > phone);
        await user.AttachDeviceAsync("again", "phone", again, phoneSession.Reference);
        var listed = await user.ListDevicesAsync();
        Assert.Equal(["laptop", "phone"], listed.Select(d => d.DeviceId).Order());
        Assert.True(listed.Single(d => d.DeviceId == "phone").Live);
        Assert.False(listed.Single(d => d.DeviceId == "laptop").Live);
        await user.DetachDeviceAsync("again");
    }

    [Fact]
    public async Task DeleteAccount_RemovesTheUser_KeepsTheConversationForTheOther_WhoseSendsAreRefused()
    {
        var alice = await cluster.NewUserAsync();
        var bob = await cluster.NewUserAsync();
        var conversation = await cluster.OpenDirectAsync(alice, bob);
        await conversation.SendAsync(alice.UserId, "a1", "hello bob");
        await conversation.SendAsync(bob.UserId, "b1", "hello alice");
        var bobGrain = cluster.User(bob);
        var generation = await bobGrain.LogInDeviceAsync("phone", null);
        await using var bobSession = await cluster.AttachAsync(bob, "bob-conn", generation, deviceId: "phone");
        var historyBefore = await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 50);

        await bobGrain.DeleteAccountAsync();

        Assert.False(Assert.Single(bobSession.Grants).Exists);
        var gone = await Assert.ThrowsAsync<MessengerException>(() => bobGrain.GetProfileAsync());
        Assert.Equal(ErrorCode.UserNotFound, gone.Code);
        var grantsAfter = await bobGrain.WatchDevicesAsync(bobSession.Reference, "phone");
        Assert.Equal((false, true), (grantsAfter.Exists, grantsAfter.Deleted));
        var attach = await Assert.ThrowsAsync<MessengerException>(() => bobGrain.AttachDeviceAsync("late", "phone", generation, bobSession.Reference));
        Assert.Equal(ErrorCode.LoggedOut, attach.Code);
        Assert.Equal(new PresenceStatus(bob.UserId, false, null), await bobGrain.GetPresenceAsync());
        Assert.Null(await cluster.Client.GetGrain<IAccountDirectoryGrain>(0).FindAsync(bob.Username));
        var refused = await Assert.ThrowsAsync<MessengerException>(() => conversation.SendAsync(alice.UserId, "a2", "are you there?"));
        Assert.Equal(ErrorCode.UserDeleted, refused.Code);
        Assert.Equal(historyBefore.Messages, (await conversation.GetHistoryAsync(alice.UserId, 0, HistoryDirection.After, 50)).Messages);
        var aliceList = await cluster.User(alice).ListConversationsAsync();
        Assert.Equal(2, Assert.Single(aliceList).LastSeq);
        await using var storage = cluster.OpenStorage();
        var bobLog = await storage.UserLogs.LoadUserAsync(bob.UserId);
        Assert.Equal((0L, 0), (bobLog.LastUserSeq, bobLog.Conversations.Count));
        // The reminder that would have finished an interrupted deletion is gone with the finished one.
        var reminders = cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
        Assert.Empty((await reminders.ReadRows(bobGrain.GetGrainId())).Reminders);

        var again = await cluster.Client.GetGrain<IAccountDirectoryGrain>(0).RegisterAsync(bob.Username, "another-hash");
        Assert.NotEqual(bob.UserId, again.UserId); // the name is free again; the old id stays gone
        await Assert.ThrowsAsync<MessengerException>(() => bobGrain.GetProfileAsync());
    }
}
