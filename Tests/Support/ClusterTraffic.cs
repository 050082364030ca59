using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using Messenger.Client;
using Messenger.Testing;

namespace Messenger.Tests.Support;

/// <summary>
/// Continuous traffic through a cluster's gateways, for fault and upgrade tests: every user has two
/// devices (on different gateways, each knowing the others as alternates) that send without pause to
/// their user's two conversations, each message until acked; afterwards <see cref="CheckAsync"/> holds
/// the consistency contract against what was acked and what each device received.
/// </summary>
public sealed class ClusterTraffic(List<ChatUser> users, List<string> conversations, IReadOnlyList<Uri> gateways)
{
    private readonly List<TrafficDevice> _devices = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Ack> _acks = new();
    private long _retries;

    public int Acked => _acks.Count;
    public long Retries => Interlocked.Read(ref _retries);
    public long UnavailableRetries => _devices.Sum(d => d.Client.UnavailableRetries);

    /// <summary>What the failed sends threw (the first few of each kind), for reports.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new();

    /// <summary>The devices, in start order.</summary>
    public IReadOnlyList<TrafficDevice> Devices => _devices;

    /// <summary>
    /// <paramref name="count"/> users with two devices each, registered through alternating gateways, in a
    /// ring of direct conversations (each user talks with the next), so every user is in two conversations.
    /// </summary>
    public static async Task<ClusterTraffic> RingAsync(IReadOnlyList<Uri> gateways, int count)
    {
        var users = new List<ChatUser>();
        for (var u = 0; u < count; u++) users.Add(await Chat.NewUserAsync(gateways[u % gateways.Count], devices: 2));
        var conversations = new List<string>();
        for (var u = 0; u < count; u++) conversations.Add(await Chat.OpenDirectAsync(gateways[0], users[u], users[(u + 1) % count]));
        return new ClusterTraffic(users, conversations, gateways);
    }

    /// <summary>The users, in ring order.</summary>
    public IReadOnlyList<ChatUser> Users => users;

    /// <summary>
    /// Starts the traffic, runs <paramref name="scenario"/> once 60 sends are acked, waits for 60 more,
    /// stops; then waits until every device holds everything and checks the consistency contract.
    /// A failure carries the traffic's state and the cluster's logs.
    /// </summary>
    public async Task RunAsync(LocalCluster cluster, Func<Task> scenario)
    {
        await StartAsync();
        try
        {
            await WaitForAcksAsync(60, TimeSpan.FromSeconds(60));
            await scenario();
            await WaitForAcksAsync(Acked + 60, TimeSpan.FromSeconds(60));
        }
        catch (Exception ex)
        {
            throw new Exception($"{ex.Message}\n{Describe()}\n{cluster.Logs()}", ex);
        }
        finally
        {
            await StopAsync();
        }
        // Every device ends up with every message of its user's conversations, in one order.
        await WaitUntilDevicesHoldEverythingAsync(gateways[^1], TimeSpan.FromSeconds(90));
        await CheckAsync(gateways[^1]);
    }

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
                var device = new TrafficDevice($"u{u}d{d}", users[u], client, mine);
                client.Disconnected += (status, reason) => { lock (device.Closes) device.Closes.Add((status, reason)); };
                _devices.Add(device);
            }
        }
        foreach (var device in _devices)
        {
            device.Reader = Task.Run(() => ReadAsync(device));
            device.Sender = Task.Run(() => SendAsync(device));
        }
    }

    private async Task SendAsync(TrafficDevice device)
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
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _retries);
                    Errors.AddOrUpdate(ex is MessengerClientException m ? $"{m.Code}: {m.Message}" : $"{ex.GetType().Name}: {ex.Message}", 1, (_, n) => n + 1);
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

    private static async Task ReadAsync(TrafficDevice device)
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

public sealed class TrafficDevice(string name, ChatUser user, MessengerClient client, string[] conversations)
{
    public string Name { get; } = name;
    public ChatUser User { get; } = user;
    public MessengerClient Client { get; } = client;
    public string[] Conversations { get; } = conversations;
    public List<Update> Updates { get; } = [];

    /// <summary>How each of this device's sockets ended: the server's close status and reason, or nulls for a broken connection.</summary>
    public List<(WebSocketCloseStatus? Status, string? Reason)> Closes { get; } = [];
    public Task? Reader { get; set; }
    public Task? Sender { get; set; }
    public long LastAckAt;

    public List<Update> MessagesOf(string conversation)
    {
        lock (Updates) return [.. Updates.Where(u => u.Kind == "message" && u.ConversationId == conversation)];
    }
}
