using System.Globalization;
using System.Text.RegularExpressions;
using Messenger.Client;
using Messenger.Tests.Support;
using Xunit.Abstractions;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Thousands of connected users stay live on one heartbeat per silo and gateway (not a call per user), and the
/// gateway's reconciliation rounds over all of them run many calls at once (not one after another).
/// </summary>
[Collection(Name)]
public sealed partial class LeaseRenewalTests(ITestOutputHelper output)
{
    /// <summary>Runs alone: the point is the server's own pace, not the other tests' load on these two cores.</summary>
    public const string Name = "lease renewal, alone";

    private const int Users = 3000;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ThousandsOfSockets_StayLiveOnOneHeartbeat_AndAreReconciledManyAtOnce()
    {
        var data = ServerProcess.NewDataDirectory();
        var seeded = await SeededAccounts.CreateAsync(data, Users + 1);
        var (sender, senderToken) = seeded[^1];
        await using var server = await ServerProcess.StartAsync(data,
            $"--Gateway:ReconcileInterval={Interval:c}", $"--Messenger:DeviceLease={Lease:c}",
            "--Logging:LogLevel:Messenger.Gateway.Sessions.GatewayNode=Debug", "--Logging:LogLevel:Messenger.Grains.Presence.PresenceUpkeep=Debug");
        var sockets = new RawSocket[Users];
        try
        {
            for (var i = 0; i < Users; i += 100)
            {
                var batch = Enumerable.Range(i, Math.Min(100, Users - i)).Select(async n => sockets[n] = await RawSocket.ConnectAsync(server.BaseAddress, seeded[n].Token));
                await Task.WhenAll(batch);
            }

            // Three full rounds over every socket, each with many checks in flight at once (one after another,
            // 3,000 calls would not fit a short interval on any machine), none failing. How long a round takes is
            // printed, not asserted: it depends on what else the cores are doing; the bench measures speed. The
            // first full round is left out: it overlaps the aftermath of 3,000 connections.
            var rounds = (await WaitForRoundsAsync(server, 4, TimeSpan.FromSeconds(60))).Skip(1).ToList();
            output.WriteLine($"reconciliation rounds over {Users} users: {string.Join(", ", rounds.Select(r => $"{r.ElapsedMs} ms ({r.Peak} at once)"))}");
            Assert.True(rounds.All(r => r.Peak > 1),
                $"reconciliation rounds over {Users} users had at most {string.Join(", ", rounds.Select(r => r.Peak))} calls in flight: they run one after another");
            Assert.All(rounds, r => Assert.Equal(0, r.Failed));

            // What keeps them live: the silo's heartbeat, one call to this one gateway for all of them.
            Assert.Contains(HeartbeatPattern().Matches(server.Output), m => m.Groups[1].Value == "1" && m.Groups[2].Value == "1"
                && int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) == Users);

            // Longer than a lease has passed since connecting: pushes reach the sockets only if their
            // sessions stayed live all along (an ended session gets no pushes).
            using var http = new MessengerHttpClient(server.BaseAddress, senderToken);
            foreach (var n in new[] { 0, Users / 2, Users - 1 })
            {
                var conversation = await http.OpenDirectAsync(seeded[n].User.UserId);
                var ack = await http.SendAsync(conversation.ConversationId, $"lease-{n}", "still there?");
                Assert.Empty(ack.OfflineRecipients!);
                var push = await sockets[n].ReceiveTypeAsync("updates");
                Assert.Equal("still there?", push.GetProperty("updates")[0].GetProperty("message").GetProperty("text").GetString());
            }
            Assert.DoesNotContain("did not answer its heartbeat", server.Output);
        }
        finally
        {
            await Task.WhenAll(sockets.Where(s => s is not null).Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static async Task<List<(int Users, double ElapsedMs, int Peak, int Failed)>> WaitForRoundsAsync(ServerProcess server, int count, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            // Rounds that covered every socket (earlier ones ran while sockets were still connecting).
            var full = RoundPattern().Matches(server.Output)
                .Select(m => (Users: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), ElapsedMs: double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                    Peak: int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), Failed: int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)))
                .Where(r => r.Users == Users)
                .ToList();
            if (full.Count >= count) return full;
            // The server logs once per interval; look again after about one.
            await Task.Delay(Interval, deadline.Token);
        }
    }

    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class Alone;

    [GeneratedRegex(@"Checked the sessions of (\d+) users and \d+ presence watches in (\d+) ms, up to (\d+) calls at once, (\d+) failed")]
    private static partial Regex RoundPattern();

    [GeneratedRegex(@"Heartbeat: (\d+) of (\d+) gateways answered; (\d+) users hold")]
    private static partial Regex HeartbeatPattern();
}
