using Messenger.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Messenger.Client;
using Messenger.Tests.Support;
using Xunit.Abstractions;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Faults in a real cluster under continuous traffic: 3 silos, 2 gateways in client mode, PostgreSQL,
/// each a process. Six users with two devices each (spread over both gateways, each knowing the other
/// gateway as an alternate) send without pause while one silo is killed with -9, then one gateway,
/// then PostgreSQL is stopped immediately and started again, then the killed processes come back.
/// Afterwards every device's log and every conversation's history are checked: nothing acked lost,
/// nothing twice, one order everywhere, gapless userSeq, nobody online who is gone.
/// </summary>
[Collection(ClusterScenarios.Name)]
public sealed class ClusterFaultTests(ITestOutputHelper output)
{
    private const int Users = 6;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task KillSiloThenGatewayThenRestartPostgres_UnderTraffic_LosesAndDuplicatesNothing()
    {
        await using var cluster = await LocalCluster.StartAsync(silos: 3, gateways: 2,
            siloArgs: $"--Messenger:DeviceLease={Lease} --Presence:OfflineGrace={Grace} --Presence:OnlineSettle=00:00:00",
            gatewayArgs: "--Gateway:LeaseRenewInterval=00:00:03 --Cluster:ResponseTimeout=00:00:05");
        var gateways = cluster.Gateways;
        var traffic = await ClusterTraffic.RingAsync(gateways, Users);
        await traffic.RunAsync(cluster, async () =>
        {
            await FaultAsync(traffic, "kill -9 silo 1", () => cluster.KillAsync("silo", 1));
            await FaultAsync(traffic, "kill -9 gateway 1", () => cluster.KillAsync("gateway", 1));
            await FaultAsync(traffic, "PostgreSQL stopped immediately (started again 2 s later)", () => cluster.KillAsync("postgres", 1), async () =>
            {
                // A silo without its database says so on /readyz.
                Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync(cluster.Silo(2)));
                await Task.Delay(TimeSpan.FromSeconds(2));
                await cluster.StartAsync("postgres", 1);
            });
            // ... and is ready again once the database is back.
            var readyBy = Stopwatch.StartNew();
            while (await ReadinessAsync(cluster.Silo(2)) != HttpStatusCode.OK)
            {
                Assert.True(readyBy.Elapsed < TimeSpan.FromSeconds(90), "silo 2 not ready 90 s after PostgreSQL came back");
                await Task.Delay(200);
            }
            output.WriteLine($"silo 2 ready again {readyBy.Elapsed.TotalSeconds:F1} s after service came back");
            await cluster.StartAsync("silo", 1);
            await cluster.StartAsync("gateway", 1);
        });
        output.WriteLine($"acked {traffic.Acked} messages; sends retried after a failure: {traffic.Retries}; "
            + $"requests the SDK retried after 'unavailable': {traffic.UnavailableRetries}; failures: "
            + string.Join("; ", traffic.Errors.Select(e => $"{e.Value}× {e.Key}")));

        // Nobody is left online: every device is gone now.
        await traffic.DisposeDevicesAsync();
        await AssertEveryoneOfflineAsync(traffic.Users, gateways[1], Lease + Grace + TimeSpan.FromSeconds(20));
    }

    private static async Task<HttpStatusCode> ReadinessAsync(Uri silo)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri(silo, "/readyz"));
        return response.StatusCode;
    }

    /// <summary>
    /// Causes a fault (returning once it took effect: the process is gone), then the repair if any, and
    /// reports how long after the fault every device had a send acked again.
    /// </summary>
    private async Task FaultAsync(ClusterTraffic traffic, string what, Func<Task> fault, Func<Task>? repair = null)
    {
        await fault();
        var at = Stopwatch.GetTimestamp();
        var retriesBefore = traffic.Retries + traffic.UnavailableRetries;
        if (repair is not null) await repair();
        var back = await traffic.WaitUntilEveryDeviceAckedAfterAsync(at, TimeSpan.FromSeconds(90));
        output.WriteLine($"{what}: every device had a send acked again {back.TotalSeconds:F1} s after the fault; "
            + $"{traffic.Retries + traffic.UnavailableRetries - retriesBefore} retries meanwhile");
    }

    private static async Task AssertEveryoneOfflineAsync(IReadOnlyList<ChatUser> users, Uri gateway, TimeSpan within)
    {
        // Each user asks about the next one in the ring (a contact); a fresh device, so it is not itself the one asked about.
        var deadline = DateTime.UtcNow + within;
        for (var u = 0; u < users.Count; u++)
        {
            var next = users[(u + 1) % users.Count];
            using var http = Chat.Http(gateway, users[u].Sessions[0]);
            while (true)
            {
                var presence = Assert.Single(await http.GetPresenceAsync([next.Id]));
                if (!presence.Online) break;
                Assert.True(DateTime.UtcNow < deadline, $"{next.Username} is still online {within} after every device went away");
                await Task.Delay(500);
            }
        }
    }
}

/// <summary>
/// The tests that start whole clusters and time how fast they recover run one after another, not side
/// by side: each brings up five processes and PostgreSQL, and on a 2-core machine two of them at once
/// would mostly measure each other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterScenarios
{
    public const string Name = "cluster scenarios, one at a time";
}
