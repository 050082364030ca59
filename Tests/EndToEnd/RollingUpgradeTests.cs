using System.Diagnostics;
using Messenger.Client;
using Messenger.Testing;
using Messenger.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// A rolling upgrade on loopback: under continuous traffic, each of 3 silos and then each of 2 gateways
/// is asked to stop (SIGTERM), exits by itself, and is started again before the next one goes, as an
/// orchestrator replaces pods one at a time. A silo leaves the membership table by itself (no other silo
/// has to declare it dead) and no send fails; a gateway closes its sockets with 1012 and its clients
/// move to the other gateway at once. Afterwards the same invariants as after kill -9 hold, and the
/// time clients spent reconnecting is reported.
/// </summary>
[Collection(ClusterScenarios.Name)]
public sealed class RollingUpgradeTests(ITestOutputHelper output)
{
    private const int Users = 6;
    private const int Silos = 3;
    private const int Gateways = 2;
    private const int DeadStatus = 6; // Orleans' SiloStatus.Dead in the membership table

    [Fact]
    public async Task ReplaceEverySiloThenEveryGateway_UnderTraffic_NoSendFails_NothingLostOrDuplicated()
    {
        await using var cluster = await LocalCluster.StartAsync(Silos, Gateways,
            siloArgs: "--Messenger:DeviceLease=00:00:10 --Presence:OnlineSettle=00:00:00",
            gatewayArgs: "--Gateway:LeaseRenewInterval=00:00:03 --Gateway:DrainTimeout=00:00:05");
        var traffic = await ClusterTraffic.RingAsync(cluster.Gateways, Users);
        await traffic.RunAsync(cluster, async () =>
        {
            for (var n = 1; n <= Silos; n++)
            {
                var silo = n;
                await ReplaceAsync(cluster, traffic, "silo", silo, async () =>
                {
                    // It wrote its own death: Dead, with no vote but its own (SuspectTimes lists "address:port@generation,time" entries).
                    var (status, suspects) = await LatestMembershipRowAsync(cluster, silo);
                    Assert.Equal(DeadStatus, status);
                    var voters = (suspects ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('@')[0]);
                    Assert.True(voters.All(v => v.EndsWith($":{cluster.SiloPort(silo)}", StringComparison.Ordinal)),
                        $"silo {silo} was declared dead by others ({suspects}), not by itself");
                });
            }
            for (var n = 1; n <= Gateways; n++) await ReplaceAsync(cluster, traffic, "gateway", n);
        });

        var reconnecting = traffic.Devices.Select(d => d.Client.TimeReconnecting).ToList();
        output.WriteLine($"acked {traffic.Acked} messages; failed sends {traffic.Retries}; requests retried after 'unavailable' {traffic.UnavailableRetries}");
        output.WriteLine($"reconnects per device: {string.Join(", ", traffic.Devices.Select(d => d.Client.Reconnects))}; time spent reconnecting per device: "
            + $"max {reconnecting.Max().TotalMilliseconds:F0} ms, mean {reconnecting.Average(t => t.TotalMilliseconds):F0} ms, total {reconnecting.Sum(t => t.TotalMilliseconds):F0} ms");

        // No client saw an error beyond a retried call, and every socket a gateway closed said why.
        Assert.True(traffic.Retries == 0, "sends failed: " + string.Join("; ", traffic.Errors.Select(e => $"{e.Value}× {e.Key}")) + "\n" + cluster.Logs());
        foreach (var device in traffic.Devices)
        {
            List<(System.Net.WebSockets.WebSocketCloseStatus? Status, string? Reason)> closes;
            lock (device.Closes) closes = [.. device.Closes];
            // Each device started on one of the two gateways and each gateway was replaced once: at least one close.
            Assert.NotEmpty(closes);
            Assert.All(closes, c => Assert.Equal((MessengerClient.ServiceRestart, "server_shutdown"), (c.Status!.Value, c.Reason!)));
        }
        await traffic.DisposeDevicesAsync();
    }

    /// <summary>
    /// Stops one process gracefully (failing if it had to be killed), checks what <paramref name="afterStop"/>
    /// says, waits until every device had a send acked after the SIGTERM, and starts it again.
    /// </summary>
    private async Task ReplaceAsync(LocalCluster cluster, ClusterTraffic traffic, string role, int n, Func<Task>? afterStop = null)
    {
        var stopping = Stopwatch.GetTimestamp();
        await cluster.StopAsync(role, n);
        var stopped = Stopwatch.GetElapsedTime(stopping);
        if (afterStop is not null) await afterStop();
        // The others carry the traffic while it is gone.
        var back = await traffic.WaitUntilEveryDeviceAckedAfterAsync(stopping, TimeSpan.FromSeconds(60));
        await cluster.StartAsync(role, n);
        output.WriteLine($"{role} {n}: exited {stopped.TotalSeconds:F1} s after SIGTERM; every device had a send acked {back.TotalSeconds:F1} s after the SIGTERM, without it");
    }

    private static async Task<(int Status, string? SuspectTimes)> LatestMembershipRowAsync(LocalCluster cluster, int silo)
    {
        await using var connection = new NpgsqlConnection(cluster.MembershipConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT Status, SuspectTimes FROM OrleansMembershipTable WHERE Port = @port ORDER BY Generation DESC LIMIT 1", connection);
        command.Parameters.AddWithValue("port", cluster.SiloPort(silo));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no membership row for silo {silo}");
        return (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }
}
