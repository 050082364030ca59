using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Messenger.Bench.Driver;
using Messenger.Bench.Hosting;
using Messenger.Bench.Push;
using Messenger.Bench.Results;

namespace Messenger.Bench.Workloads;

/// <summary>
/// Push notifications to offline users: every recipient subscribed to a webhook target served by the bench
/// itself (<see cref="WebhookReceiver"/>, which checks each signature), none of them with a socket or a poll,
/// and senders with a socket each sending open-loop at a rate stepped up. Cases, each on a fresh server:
/// <c>group</c> (one sender into a group of N members: N-1 notifications per message), <c>direct</c> (N
/// recipients in 1:1 conversations with a few senders, one message each in turn), both with
/// <c>Push:Delay</c> 0 so that commit to push is the pipeline alone, and <c>delay</c> (the group at the
/// server's default delay of 2 s). Per step: notifications/s and the messages they stand for, commit to
/// webhook (the notification's <c>sentAt</c> to its arrival, one machine's clock), duplicates, bad signatures.
/// </summary>
public static class PushWorkload
{
    private const string TargetName = "bench";
    /// <summary>The server's default <c>Push:Delay</c> (Grains/Push/PushOptions.cs), which the delay case leaves as it is.</summary>
    private static readonly TimeSpan ServerDefaultDelay = TimeSpan.FromSeconds(2);

    private sealed record Case(string Name, TimeSpan Delay, int Recipients, int Senders, List<PushStep> Steps, WebhookReceiver Receiver,
        long Overlaps, long Unattributed, JsonObject States, long ServerLogLines)
    {
        public long Duplicates => Receiver.Duplicates;
        public long BadSignatures => Receiver.BadSignatures;
        public PushStep? Sustainable => Steps.Where(s => s.Sustainable(Duplicates, BadSignatures)).OrderByDescending(s => s.Rate).FirstOrDefault();
        public bool Correct => Duplicates == 0 && BadSignatures == 0 && Receiver.Malformed == 0 && Overlaps == 0 && Unattributed == 0;
    }

    public static async Task<IReadOnlyList<WorkloadResult>> RunAsync(BenchContext context)
    {
        var options = context.Options;
        var result = new WorkloadResult("push",
            $"push notifications to offline users through a signed webhook: cases {string.Join(", ", options.PushCases)}, {options.PushUsers} users");
        if (options.Url is not null)
        {
            result.Notes.Add("skipped: the push workload configures the webhook target on the command line of a server it starts (not with --url)");
            return [result];
        }
        result.Parameters["users"] = options.PushUsers;
        result.Parameters["cases"] = string.Join(",", options.PushCases);
        result.Parameters["groupRates"] = Join(options.PushGroupRates);
        result.Parameters["directRates"] = Join(options.PushDirectRates);
        result.Parameters["delayRates"] = Join(options.PushDelayRates);
        result.Parameters["directSenders"] = options.PushSenders;
        result.Parameters["stepSeconds"] = options.StepDuration.TotalSeconds;
        result.Parameters["warmupSeconds"] = options.Warmup.TotalSeconds;
        result.Parameters["textBytes"] = options.TextBytes;
        result.Parameters["webhookAnswerMs"] = options.PushWebhookLatency.TotalMilliseconds;
        result.Parameters["latency"] = "commit to push: webhook arrival minus the notification's sentAt (the newest message it stands for), same machine clock";
        result.Parameters["sustainable"] = $"every message acked, >= 95% of the (recipient, message) pairs covered by notifications within the step + delay + " +
            $"{PushStep.Grace.TotalSeconds:F0} s, p99 commit to push and scheduled send to push <= {options.PushP99BoundMs} ms + delay, no duplicate, no bad signature";

        var cases = new List<Case>();
        foreach (var name in options.PushCases) cases.Add(await RunCaseAsync(context, name));

        var table = new TextTable("case", "msgs/s", "notif/s target", "notif/s", "covered/s", "in time %", "push p50", "push p99", "push max",
            "oldest p99", "sched p99", "collapsed", "dup", "bad sig", "srv CPU%", "writer%", "gen CPU%", "other CPU%", "steal%", "srv us/notif", "ok");
        var json = new JsonArray();
        foreach (var c in cases)
        {
            foreach (var s in c.Steps)
            {
                table.Add(c.Name, s.Rate, s.TargetNotificationsPerSecond, s.NotificationsPerSecond, s.CoveredPerSecond, s.InTimePercent,
                    s.Push.Ms(50), s.Push.Ms(99), s.Push.MaxMs, s.Oldest.Ms(99), s.FromSchedule.Ms(99), s.Collapsed, c.Duplicates, c.BadSignatures,
                    s.Cpu.ServerPercent, Writer(s), s.Cpu.BenchPercent, s.Cpu.OtherPercent, s.Cpu.StealPercent, s.ServerUsPerNotification, s.Sustainable(c.Duplicates, c.BadSignatures) ? "yes" : "no");
            }
            var best = c.Sustainable;
            json.Add(new JsonObject
            {
                ["case"] = c.Name,
                ["delaySeconds"] = c.Delay.TotalSeconds,
                ["recipients"] = c.Recipients,
                ["senders"] = c.Senders,
                ["steps"] = new JsonArray(c.Steps.Select(s => (JsonNode)s.ToJson(c.Duplicates, c.BadSignatures)).ToArray()),
                ["webhookRequests"] = c.Receiver.Requests,
                ["uniqueNotifications"] = c.Receiver.Unique,
                ["duplicates"] = c.Duplicates,
                ["badSignatures"] = c.BadSignatures,
                ["malformed"] = c.Receiver.Malformed,
                ["overlaps"] = c.Overlaps,
                ["unattributed"] = c.Unattributed,
                ["sampledStates"] = c.States.DeepClone(),
                ["serverLogLines"] = c.ServerLogLines,
                ["sustainableMessagesPerSecond"] = best?.Rate,
                ["sustainableNotificationsPerSecond"] = best is null ? null : Math.Round(best.NotificationsPerSecond, 1),
            });
            result.Figures[$"{c.Name}SustainableMessagesPerSecond"] = best?.Rate;
            result.Figures[$"{c.Name}SustainableNotificationsPerSecond"] = best is null ? null : Math.Round(best.NotificationsPerSecond, 1);
            result.Notes.Add($"{c.Name}: " + (best is null
                ? "no step was sustainable"
                : $"sustainable up to {best.Rate:0.##} msgs/s = {best.NotificationsPerSecond:F0} notifications/s " +
                  $"(p99 commit to push {best.Push.Ms(99):F0} ms, {best.InTimePercent:F1}% in time)"));
            if (c.Delay == TimeSpan.Zero && c.Steps.Count > 0 && c.Steps[^1].Sustainable(c.Duplicates, c.BadSignatures))
            {
                result.Notes.Add($"{c.Name}: the highest step tried was sustainable; the limit may be higher");
            }
            result.Notes.Add($"{c.Name}: webhook requests {c.Receiver.Requests}, unique notifications {c.Receiver.Unique}, duplicates {c.Duplicates}, " +
                $"bad signatures {c.BadSignatures}, malformed {c.Receiver.Malformed}, recipients notified twice of one message {c.Overlaps}, " +
                $"unattributed {c.Unattributed}; states of a sample of recipients: {c.States.ToJsonString()}");
            foreach (var problem in c.Receiver.Problems) result.Notes.Add($"{c.Name}: webhook refused: {problem}");
            if (!c.Correct)
            {
                result.Failures.Add($"{c.Name}: duplicates {c.Duplicates}, bad signatures {c.BadSignatures}, malformed {c.Receiver.Malformed}, " +
                    $"overlaps {c.Overlaps}, unattributed {c.Unattributed} (all must be 0)");
            }
        }
        result.Figures["cases"] = json;
        result.Tables.Add((TableCaption(options), table));
        return [result];
    }

    private static async Task<Case> RunCaseAsync(BenchContext context, string name)
    {
        var options = context.Options;
        var log = context.Log;
        var group = name != "direct";
        var delay = name == "delay" ? ServerDefaultDelay : TimeSpan.Zero;
        var rates = name switch { "group" => options.PushGroupRates, "direct" => options.PushDirectRates, _ => options.PushDelayRates };
        var senders = group ? 1 : options.PushSenders;
        var recipients = group ? options.PushUsers - 1 : options.PushUsers;
        log.WriteLine($"  case {name}: {recipients} offline recipients subscribed to the webhook (answering after {options.PushWebhookLatency.TotalMilliseconds:0} ms), " +
            $"{senders} sender(s), Push:Delay {delay.TotalSeconds:0.##} s");

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var receiver = await WebhookReceiver.StartAsync(secret, options.PushWebhookLatency);
        List<string> settings = [$"--Push:Webhooks:{TargetName}:Url={receiver.Url}", $"--Push:Webhooks:{TargetName}:Secret={secret}"];
        // The delay case runs with the server's own default, so it shows what a deployment gets.
        if (delay == TimeSpan.Zero) settings.Add("--Push:Delay=00:00:00");
        await using var target = await context.StartGatewayAsync($"push-{name}", senders + recipients, settings);
        var senderAccounts = target.Accounts.Take(senders).ToArray();
        var recipientAccounts = target.Accounts.Skip(senders).Take(recipients).ToArray();

        var started = Clock.NowUs();
        using var http = new HttpClient { BaseAddress = target.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await Parallel.ForEachAsync(recipientAccounts, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (account, ct) => await SubscribeAsync(http, account, ct));
        string[] conversations;
        Func<long, (int, int)> route;
        if (group)
        {
            conversations = [await target.CreateGroupAsync(senderAccounts[0], $"push bench {recipients + 1}", recipientAccounts)];
            route = _ => (0, 0);
        }
        else
        {
            conversations = new string[recipients];
            await Parallel.ForEachAsync(Enumerable.Range(0, recipients), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (r, _) => conversations[r] = await target.OpenDirectAsync(senderAccounts[r % senders], recipientAccounts[r]));
            // Message n goes to recipient n mod N: a step of N messages gives each recipient one.
            route = n => ((int)(n % recipients % senders), (int)(n % recipients));
        }
        log.WriteLine($"  {recipients} recipients subscribed, {conversations.Length} conversation(s) ready in {(Clock.NowUs() - started) / 1e6:F1} s");

        // The delay case's slow step sends one message per 4 s: 20 s make a handful.
        var stepDuration = name == "delay" && !options.Quick && options.StepDuration < TimeSpan.FromSeconds(20) ? TimeSpan.FromSeconds(20) : options.StepDuration;
        var plan = new[] { (Rate: rates[0], options.Warmup) }.Concat(rates.Select(r => (r, stepDuration)));
        var load = new PushLoad(conversations, senders, route, receiver, group ? recipients : 1, delay, options.PushP99BoundMs,
            options.Window, FrameWriter.Text(options.TextBytes), PushLoad.Capacity(plan));
        var events = new SocketEvents();
        var sockets = new List<BenchSocket>();
        for (var i = 0; i < senders; i++)
        {
            var socket = await BenchSocket.ConnectAsync(target.SocketUri(senderAccounts[i]), i, events, null);
            sockets.Add(socket);
            load.Attach(socket);
        }

        var steps = new List<PushStep>();
        using (var metrics = new ServerMetrics(target.BaseAddress))
        {
            var warm = await load.RunStepAsync(rates[0], options.Warmup, warmup: true, target, metrics);
            log.WriteLine($"  {name} warm-up {warm.Rate:0.##} msgs/s: {Describe(warm)}");
            foreach (var rate in rates)
            {
                var step = await load.RunStepAsync(rate, stepDuration, warmup: false, target, metrics);
                steps.Add(step);
                log.WriteLine($"  {name} {rate:0.##} msgs/s: {Describe(step)}");
                if (step.ServerMetrics is { } m) log.WriteLine($"    server metrics: {m.ToJsonString()}");
                if (step.ServerThreads is { } t) log.WriteLine($"    server threads, % of a core: {t.ToJsonString()}");
                if (step.ClearlyFailed)
                {
                    log.WriteLine($"  {name}: step {rate:0.##} msgs/s clearly failed; not stepping higher");
                    break;
                }
                await Task.Delay(options.Quick ? 200 : 1000);
            }
        }
        load.Complete();
        var states = await SampleStatesAsync(http, recipientAccounts, conversations, group);
        await BenchSocket.CloseAllAsync(sockets);
        var overlaps = load.Overlaps;
        var unattributed = load.Unattributed();
        long logLines = 0;
        if (target.Server is { } server)
        {
            foreach (var line in server.Log.Describe().Take(5)) log.WriteLine($"  server log: {line}");
            if (server.HasExited) log.WriteLine("  the server process EXITED during the case");
            logLines = File.ReadLines(server.LogPath).LongCount();
        }
        foreach (var reason in events.Reasons) log.WriteLine($"  sender disconnect: {reason}");
        return new Case(name, delay, recipients, senders, steps, receiver, overlaps, unattributed, states, logLines);
    }

    /// <summary><c>PUT /v1/push/subscription</c> for the account's device: the bench's webhook target, a token naming the user.</summary>
    private static async Task SubscribeAsync(HttpClient http, BenchAccount account, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "v1/push/subscription")
        {
            Content = new StringContent($$"""{"webhook":{"target":"{{TargetName}}","token":"device-{{account.Index}}"} }""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Token);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"subscribing {account.Username} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    /// <summary>
    /// What the server says became of the notifications of a few recipients (<c>GET /v1/conversations/{id}/push</c>):
    /// how many of their messages ended in each state. Anything still pending or failed after the drain is a finding.
    /// </summary>
    private static async Task<JsonObject> SampleStatesAsync(HttpClient http, BenchAccount[] recipients, string[] conversations, bool group)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var sample = Math.Min(10, recipients.Length);
        for (var i = 0; i < sample; i++)
        {
            var r = i * (recipients.Length / sample);
            var conversation = group ? conversations[0] : conversations[r];
            long after = 0;
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/conversations/{Uri.EscapeDataString(conversation)}/push?after={after}&limit=50");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", recipients[r].Token);
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    counts["(error " + (int)response.StatusCode + ")"] = counts.GetValueOrDefault("(error " + (int)response.StatusCode + ")") + 1;
                    break;
                }
                var list = JsonNode.Parse(body)?["notifications"]?.AsArray() ?? [];
                foreach (var item in list)
                {
                    var state = item?["state"]?.GetValue<string>() ?? "?";
                    counts[state] = counts.GetValueOrDefault(state) + 1;
                    after = Math.Max(after, item?["seq"]?.GetValue<long>() ?? after);
                }
                if (list.Count < 50) break;
            }
        }
        var json = new JsonObject { ["recipients"] = sample };
        foreach (var (state, count) in counts) json[state] = count;
        return json;
    }

    private static string Describe(PushStep s) =>
        $"sent {s.Sent}/{s.Scheduled}, acked {s.Acked}, errors {s.Errors}{(s.FirstError is null ? "" : $" ({s.FirstError})")}; " +
        $"notifications {s.Notifications} ({s.NotificationsPerSecond:F0}/s of {s.TargetNotificationsPerSecond:F0}), covering {s.Covered} of {s.Expected} " +
        $"({s.InTimePercent:F1}% in time), collapsed {s.Collapsed}; commit to push p50 {s.Push.Ms(50):F1} p99 {s.Push.Ms(99):F1} max {s.Push.MaxMs:F1} ms, " +
        $"oldest p99 {s.Oldest.Ms(99):F1} ms, from the scheduled send p50 {s.FromSchedule.Ms(50):F1} p99 {s.FromSchedule.Ms(99):F1} ms; drain {Math.Max(0, s.DrainedUs - s.EndUs) / 1e6:F1} s; {s.Cpu.Describe()}, " +
        $"srv {s.ServerUsPerNotification:F0} us/notification";

    private static string TableCaption(BenchOptions options) =>
        "msgs/s = messages sent (group: into the group, each for every member but the sender; direct: one recipient each); notif/s = unique notifications " +
        "received by the webhook for the step's messages, over the step or until its last notification (less the delay); covered/s = the (recipient, message) " +
        "pairs they stand for (count); in time % = pairs covered within the step + delay + " +
        $"{PushStep.Grace.TotalSeconds:F0} s; push = webhook arrival minus the notification's sentAt (the server took the newest message it stands for), ms; " +
        $"oldest = from the oldest message a notification stands for; sched = from the newest message's scheduled send (the send path included); dup/bad sig = for the whole case; ok = sustainable (push and sched p99 <= {options.PushP99BoundMs} ms + delay, >= 95% in time). CPU in % of one core " +
        $"({Environment.ProcessorCount * 100}% = all {Environment.ProcessorCount} cores): writer = the server's SQLite writer thread, gen = the bench (it also " +
        "runs the webhook receiver), other = every other process and the kernel (above a few % the step was disturbed)";

    /// <summary>The server's SQLite writer thread (every durable write, the outbox's included), % of one core.</summary>
    private static double Writer(PushStep s) =>
        s.ServerThreads?["sqlite-writer"] is JsonValue v && v.TryGetValue<double>(out var percent) ? percent : s.ServerThreads is null ? double.NaN : 0;

    private static string Join(double[] values) => string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
