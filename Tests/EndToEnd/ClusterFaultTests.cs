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
        var users = new List<ChatUser>();
        for (var u = 0; u < Users; u++) users.Add(await Chat.NewUserAsync(gateways[u % 2], devices: 2));
        // A ring: each user talks with the next, so every user is in two conversations.
        var conversations = new List<string>();
        for (var u = 0; u < Users; u++) conversations.Add(await Chat.OpenDirectAsync(gateways[0], users[u], users[(u + 1) % Users]));

        var traffic = new Traffic(users, conversations, gateways);
        await traffic.StartAsync();
        try
        {
            await traffic.WaitForAcksAsync(60, TimeSpan.FromSeconds(60));

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
            await traffic.WaitForAcksAsync(traffic.Acked + 60, TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            throw new Exception($"{ex.Message}\n{traffic.Describe()}\n{cluster.Logs()}", ex);
        }
        finally
        {
            await traffic.StopAsync();
        }

        // Every device ends up with every message of its user's conversations.
        await traffic.WaitUntilDevicesHoldEverythingAsync(gateways[1], TimeSpan.FromSeconds(90));
        await traffic.CheckAsync(gateways[1]);
        output.WriteLine($"acked {traffic.Acked} messages; sends retried after a failure: {traffic.Retries}; "
            + $"requests the SDK retried after 'unavailable': {traffic.UnavailableRetries}");

        // Nobody is left online: every device is gone now.
        await traffic.DisposeDevicesAsync();
        await AssertEveryoneOfflineAsync(users, gateways[1], Lease + Grace + TimeSpan.FromSeconds(20));
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
    private async Task FaultAsync(Traffic traffic, string what, Func<Task> fault, Func<Task>? repair = null)
    {
        await fault();
        var at = Stopwatch.GetTimestamp();
        var retriesBefore = traffic.Retries + traffic.UnavailableRetries;
        if (repair is not null) await repair();
        var back = await traffic.WaitUntilEveryDeviceAckedAfterAsync(at, TimeSpan.FromSeconds(90));
        output.WriteLine($"{what}: every device had a send acked again {back.TotalSeconds:F1} s after the fault; "
            + $"{traffic.Retries + traffic.UnavailableRetries - retriesBefore} retries meanwhile");
    }

    private static async Task AssertEveryoneOfflineAsync(List<ChatUser> users, Uri gateway, TimeSpan within)
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

    /// <summary>Every device sends without pause to its user's conversations, each message until acked.</summary>
    private sealed class Traffic(List<ChatUser> users, List<string> conversations, IReadOnlyList<Uri> gateways)
    {
        private readonly List<Device> _devices = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<string, Ack> _acks = new();
        private long _retries;

        public int Acked => _acks.Count;
        public long Retries => Interlocked.Read(ref _retries);
        public long UnavailableRetries => _devices.Sum(d => d.Client.UnavailableRetries);

        public async Task StartAsync()
        {
            for (var u = 0; u < users.Count; u++)
            {
                for (var d = 0; d < 2; d++)
                {
                    var home = gateways[(u + d) % gateways.Count];
                    var client = await MessengerClient.ConnectAsync(home, users[u].Sessions[d].Token, new MessengerClientOptions
                    {
                        RequestTimeout = TimeSpan.FromSeconds(20),
                        AlternateServers = [.. gateways.Where(g => g != home)],
                    });
                    var mine = new[] { conversations[u], conversations[(u + users.Count - 1) % users.Count] };
                    _devices.Add(new Device($"u{u}d{d}", users[u], client, mine));
                }
            }
            foreach (var device in _devices)
            {
                device.Reader = Task.Run(() => ReadAsync(device));
                device.Sender = Task.Run(() => SendAsync(device));
            }
        }

        private async Task SendAsync(Device device)
        {
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                var conversation = device.Conversations[i % 2];
                var clientMsgId = $"{device.Name}-{i}";
                // The client algorithm: the same clientMsgId until an ack comes, however long that takes.
                while (true)
                {
                    try
                    {
                        var ack = await device.Client.SendAsync(conversation, $"{device.Name} says {i}", clientMsgId);
                        _acks[clientMsgId] = ack;
                        device.LastAckAt = Stopwatch.GetTimestamp();
                        break;
                    }
                    catch (Exception) when (!_stop.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref _retries);
                        await Task.Delay(200);
                    }
                    catch (Exception)
                    {
                        return; // stopping with this one unacked: it may or may not be stored
                    }
                }
                await Task.Delay(50);
            }
        }

        private static async Task ReadAsync(Device device)
        {
            try
            {
                await foreach (var update in device.Client.Updates.ReadAllAsync())
                {
                    lock (device.Updates) device.Updates.Add(update);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (ChannelClosedException)
            {
            }
        }

        public async Task WaitForAcksAsync(int count, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (Acked < count)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {Acked} of {count} sends acked within {within}");
                await Task.Delay(100);
            }
        }

        public async Task<TimeSpan> WaitUntilEveryDeviceAckedAfterAsync(long at, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (_devices.Any(d => d.LastAckAt <= at))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"devices without an ack {within} after the fault: {string.Join(", ", _devices.Where(d => d.LastAckAt <= at).Select(d => d.Name))}");
                }
                await Task.Delay(50);
            }
            return Stopwatch.GetElapsedTime(at); // within the 50 ms of polling
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_devices.Select(d => d.Sender ?? Task.CompletedTask));
        }

        /// <summary>Waits until each device's log holds every message its conversations hold.</summary>
        public async Task WaitUntilDevicesHoldEverythingAsync(Uri gateway, TimeSpan within)
        {
            var lastSeq = new Dictionary<string, long>();
            foreach (var conversation in conversations)
            {
                using var http = Chat.Http(gateway, users[conversations.IndexOf(conversation)].Sessions[0]);
                lastSeq[conversation] = (await http.GetHistoryAsync(conversation, limit: 1)).LastSeq;
            }
            var deadline = DateTime.UtcNow + within;
            foreach (var device in _devices)
            {
                while (device.Conversations.Any(c => device.MessagesOf(c).Count < lastSeq[c]))
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException($"{device.Name} holds {string.Join(", ", device.Conversations.Select(c => $"{device.MessagesOf(c).Count}/{lastSeq[c]}"))} messages {within} after the traffic stopped");
                    }
                    await Task.Delay(200);
                }
            }
        }

        public async Task CheckAsync(Uri gateway)
        {
            foreach (var conversation in conversations)
            {
                using var http = Chat.Http(gateway, users[conversations.IndexOf(conversation)].Sessions[0]);
                // Gapless, each message once, every ack where it said.
                var history = await Chat.ReadHistoryCheckedAsync(http, conversation);
                var bySeq = history.ToDictionary(m => m.Seq);
                foreach (var ack in _acks.Values.Where(a => a.ConversationId == conversation))
                {
                    Assert.True(bySeq.TryGetValue(ack.Seq, out var stored), $"acked {ack.ClientMsgId} (seq {ack.Seq}) is missing");
                    Assert.Equal(ack.ClientMsgId, stored.ClientMsgId);
                }

                // Every device of both members: exactly this history, in this order.
                foreach (var device in _devices.Where(d => d.Conversations.Contains(conversation)))
                {
                    Assert.Equal(history.Select(m => (m.Seq, m.ClientMsgId)), device.MessagesOf(conversation).Select(u => (u.Seq, u.Message!.ClientMsgId)));
                }
            }
            foreach (var device in _devices)
            {
                List<Update> log;
                lock (device.Updates) log = [.. device.Updates];
                Chat.AssertGapless(log);
            }
        }

        public string Describe() =>
            $"acked {Acked}, retries {Retries}; " + string.Join("; ", _devices.Select(d => $"{d.Name}: cursor {d.Client.Cursor}, {d.Updates.Count} updates"));

        public async Task DisposeDevicesAsync()
        {
            foreach (var device in _devices) await device.Client.DisposeAsync();
        }
    }

    private sealed class Device(string name, ChatUser user, MessengerClient client, string[] conversations)
    {
        public string Name { get; } = name;
        public ChatUser User { get; } = user;
        public MessengerClient Client { get; } = client;
        public string[] Conversations { get; } = conversations;
        public List<Update> Updates { get; } = [];
        public Task? Reader { get; set; }
        public Task? Sender { get; set; }
        public long LastAckAt;

        public List<Update> MessagesOf(string conversation)
        {
            lock (Updates) return [.. Updates.Where(u => u.Kind == "message" && u.ConversationId == conversation)];
        }
    }
}
