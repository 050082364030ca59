using Messenger.Grains;
using Messenger.Grains.Users;

namespace Messenger.Tests.Units;

/// <summary>The rules of a user's devices: generations, logouts, the limit, and writes that fail.</summary>
public sealed class UserDevicesTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private readonly List<UserDevicesState> _written = [];
    private bool _failWrites;

    private UserDevices NewDevices() => new(new UserDevicesState(), state =>
    {
        if (_failWrites) throw new InvalidOperationException("the database is away");
        _written.Add(state);
        return Task.CompletedTask;
    });

    [Fact]
    public async Task LogIn_NewDeviceGetsANewGeneration_ALoginAgainKeepsItAndItsName()
    {
        var devices = NewDevices();

        var (phone, _) = await devices.LogInAsync("phone", "Phone", T0);
        var (laptop, _) = await devices.LogInAsync("laptop", null, T0);
        var (again, evicted) = await devices.LogInAsync("phone", null, T0.AddMinutes(1));

        Assert.Equal((1L, 2L, 1L), (phone, laptop, again));
        Assert.Null(evicted);
        var grants = devices.Grants("u", exists: true);
        Assert.True(grants.Allows("phone", phone) && grants.Allows("laptop", laptop));
        Assert.False(grants.Allows("laptop", phone)); // another device's generation is not enough
        var listed = devices.List(_ => false, T0.AddMinutes(5));
        Assert.Equal(["phone", "laptop"], listed.Select(d => d.DeviceId)); // most recently active first
        Assert.Equal(("Phone", T0, T0.AddMinutes(1)), (listed[0].Name, listed[0].CreatedAt, listed[0].LastActiveAt));
        // A device with a session now is active now, and listed first; what is saved does not change.
        var withLaptopLive = devices.List(id => id == "laptop", T0.AddMinutes(5));
        Assert.Equal([("laptop", T0.AddMinutes(5), true), ("phone", T0.AddMinutes(1), false)],
            withLaptopLive.Select(d => (d.DeviceId, d.LastActiveAt, d.Live)));
        Assert.Equal(T0, devices.List(_ => false, T0.AddMinutes(5)).Single(d => d.DeviceId == "laptop").LastActiveAt);
        Assert.Equal(3, _written.Count);
    }

    [Fact]
    public async Task TwoLogoutsInARow_EachRaiseTheFloor_SoTheCopyBetweenThemNeverSupersedesTheLater()
    {
        var devices = NewDevices();
        var (phone, _) = await devices.LogInAsync("phone", null, T0);
        var (laptop, _) = await devices.LogInAsync("laptop", null, T0);
        await devices.LogOutAsync("phone");
        var between = devices.Grants("u", true); // what a gateway fetched between the two logouts
        Assert.True(between.Allows("laptop", laptop));

        await devices.LogOutAsync("laptop");

        var after = devices.Grants("u", true);
        Assert.False(after.Allows("laptop", laptop));
        Assert.True(after.Floor > between.Floor);
        Assert.False(between.Supersedes(after)); // a fetch answered before the second logout cannot bring the laptop back
        Assert.True(after.Supersedes(between));
        var (again, _) = await devices.LogInAsync("laptop", null, T0.AddMinutes(1));
        Assert.True(devices.Grants("u", true).Allows("laptop", again) && again > laptop && again > phone);
    }

    [Fact]
    public async Task LogOut_RevokesThatDevicesTokensAndRecordlessOnes_NotTheOthers_AndALaterLoginWorks()
    {
        var devices = NewDevices();
        var (phone, _) = await devices.LogInAsync("phone", null, T0);
        var (laptop, _) = await devices.LogInAsync("laptop", null, T0);
        Assert.True(devices.Grants("u", true).Allows("legacy", 0)); // a token from before devices were recorded

        Assert.True(await devices.LogOutAsync("phone"));

        var grants = devices.Grants("u", true);
        Assert.False(grants.Allows("phone", phone));
        Assert.False(grants.Allows("legacy", 0));
        Assert.True(grants.Allows("laptop", laptop));
        var (again, _) = await devices.LogInAsync("phone", null, T0.AddMinutes(1));
        Assert.True(again > laptop);
        Assert.True(devices.Grants("u", true).Allows("phone", again));
        Assert.False(devices.Grants("u", true).Allows("phone", phone));
        Assert.False(await devices.LogOutAsync("tablet"));
    }

    [Fact]
    public async Task LogIn_BeyondTheLimit_LogsOutTheLeastRecentlyActiveDevice()
    {
        var devices = NewDevices();
        var generations = new Dictionary<string, long>();
        for (var i = 0; i < UserDevices.MaxDevices; i++) generations[$"d{i}"] = (await devices.LogInAsync($"d{i}", null, T0.AddSeconds(i))).Generation;
        devices.Touch("d0", T0.AddHours(1)); // d0 is the most recent now; d1 the least

        var (_, evicted) = await devices.LogInAsync("new", null, T0.AddHours(2));

        Assert.Equal("d1", evicted);
        var grants = devices.Grants("u", true);
        Assert.Equal(UserDevices.MaxDevices, grants.Devices.Count);
        Assert.False(grants.Allows("d1", generations["d1"]));
        Assert.True(grants.Allows("d0", generations["d0"]));
    }

    [Fact]
    public async Task AFailedWrite_ChangesNothing()
    {
        var devices = NewDevices();
        var (phone, _) = await devices.LogInAsync("phone", null, T0);
        _failWrites = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => devices.LogOutAsync("phone"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => devices.BeginDeletionAsync());

        Assert.True(devices.Grants("u", true).Allows("phone", phone));
        Assert.False(devices.Deleting);
    }

    [Fact]
    public async Task BeginDeletion_LeavesNoTokenGood_AndAnAccountThatIsGoneHasNone()
    {
        var devices = NewDevices();
        var (phone, _) = await devices.LogInAsync("phone", null, T0);
        Assert.False(devices.Grants("u", exists: false).Allows("phone", phone));

        await devices.BeginDeletionAsync();

        var grants = devices.Grants("u", exists: true);
        Assert.True(devices.Deleting);
        Assert.False(grants.Exists);
        Assert.Equal(ErrorCode.LoggedOut, grants.Refusal("phone", phone));
        Assert.Empty(devices.List(_ => true, T0));

        await devices.CompleteDeletionAsync();

        Assert.False(devices.Deleting);
        Assert.Equal(ErrorCode.LoggedOut, devices.Grants("u", exists: false).Refusal("phone", phone)); // not "never known"
    }

    [Fact]
    public void Refusal_SaysLoggedOutForARevokedToken_AndUnauthorizedForAUserNeverKnown()
    {
        var grants = new DeviceGrants("u", true, 3, new Dictionary<string, long> { ["phone"] = 4 });

        Assert.Null(grants.Refusal("phone", 4));
        Assert.Null(grants.Refusal("tablet", 3)); // no record: the floor decides
        Assert.Equal(ErrorCode.LoggedOut, grants.Refusal("phone", 3));
        Assert.Equal(ErrorCode.LoggedOut, grants.Refusal("tablet", 2));
        Assert.Equal(ErrorCode.Unauthorized, new DeviceGrants("u", false, 0, new Dictionary<string, long>()).Refusal("phone", 0));
        Assert.Equal(ErrorCode.LoggedOut, new DeviceGrants("u", false, 0, new Dictionary<string, long>(), Deleted: true).Refusal("phone", 0));
    }

    [Fact]
    public async Task Touch_IsSavedByTheNextFlush_AndOnlyMovesForward()
    {
        var devices = NewDevices();
        await devices.LogInAsync("phone", null, T0);
        await devices.FlushAsync();
        Assert.Single(_written); // nothing changed since the login's write

        devices.Touch("phone", T0.AddMinutes(5));
        devices.Touch("phone", T0.AddMinutes(1));
        devices.Touch("unknown", T0.AddMinutes(9));
        await devices.FlushAsync();

        Assert.Equal(2, _written.Count);
        Assert.Equal(T0.AddMinutes(5), _written[^1].Devices["phone"].LastActiveAt);
        Assert.False(devices.Dirty);
    }

    [Fact]
    public void Supersedes_DeletionIsFinal_AndTheFloorNeverFalls()
    {
        DeviceGrants Grants(bool exists, long floor) => new("u", exists, floor, new Dictionary<string, long>());

        Assert.True(Grants(true, 3).Supersedes(Grants(true, 2)));
        Assert.True(Grants(true, 3).Supersedes(Grants(true, 3)));
        Assert.False(Grants(true, 2).Supersedes(Grants(true, 3)));
        Assert.True(Grants(false, 0).Supersedes(Grants(true, 9)));
        Assert.False(Grants(true, 9).Supersedes(Grants(false, 0)));
    }
}
