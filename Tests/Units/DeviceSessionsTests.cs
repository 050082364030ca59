using Messenger.Grains;
using Messenger.Grains.Presence;

namespace Messenger.Tests.Units;

/// <summary>
/// The gateways a delivery pushes to: each gateway of a live session once; the answer is reused while those gateways
/// stay the same, and an answer once given never changes.
/// </summary>
public sealed class DeviceSessionsTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private static DeviceSessions NewSessions() => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), (_, _) => { });

    [Fact]
    public void LiveGateways_NamesEachGatewayOfALiveSessionOnce()
    {
        var sessions = NewSessions();
        var (a, b) = (new Gateway("a"), new Gateway("b"));
        var (leaseA, leaseB) = (new GatewayLease(a, T0), new GatewayLease(b, T0));
        sessions.Attach("c1", "phone", leaseA);
        sessions.Attach("c2", "laptop", leaseA);
        sessions.Attach("c3", "tablet", leaseB);

        Assert.Equal([a, b], sessions.LiveGateways().OrderBy(g => ((Gateway)g).Name));

        leaseB.GiveUp();
        Assert.Equal([a], sessions.LiveGateways());
    }

    [Fact]
    public void LiveGateways_AnswersTheSameListWhileTheGatewaysStayTheSame()
    {
        var sessions = NewSessions();
        var a = new Gateway("a");
        var leaseA = new GatewayLease(a, T0);
        sessions.Attach("c1", "phone", leaseA);
        var first = sessions.LiveGateways();

        sessions.Attach("c2", "laptop", leaseA); // another session on the same gateway
        Assert.Same(first, sessions.LiveGateways());

        sessions.Detach("c1", T0);
        Assert.Same(first, sessions.LiveGateways());
    }

    [Fact]
    public void LiveGateways_NeverChangesAListItAnswered()
    {
        var sessions = NewSessions();
        var (a, b) = (new Gateway("a"), new Gateway("b"));
        var leaseA = new GatewayLease(a, T0);
        sessions.Attach("c1", "phone", leaseA);
        var first = sessions.LiveGateways();

        sessions.Attach("c2", "laptop", new GatewayLease(b, T0));
        var second = sessions.LiveGateways();
        Assert.Equal([a], first);
        Assert.Equal(2, second.Count);

        leaseA.GiveUp();
        Assert.Equal([b], sessions.LiveGateways());
        Assert.Equal(2, second.Count);

        sessions.Detach("c2", T0);
        Assert.Empty(sessions.LiveGateways());
        Assert.Equal(2, second.Count);
        Assert.Equal([a], first);
    }

    /// <summary>A gateway's observer reference, compared by value as grain references are.</summary>
    private sealed record Gateway(string Name) : IUpdateObserver
    {
        public Task<IReadOnlyList<string>> OnUpdatesAsync(UpdateBatch batch) => throw new NotSupportedException();
        public Task OnPresenceAsync(PresenceStatus status) => throw new NotSupportedException();
        public Task OnTypingAsync(string userId, TypingEvent typing) => throw new NotSupportedException();
        public Task OnDevicesChangedAsync(DeviceGrants grants) => throw new NotSupportedException();
        public Task OnUserReleasedAsync(string userId) => throw new NotSupportedException();
        public Task OnHeartbeatAsync() => throw new NotSupportedException();
    }
}
