using System.Globalization;

namespace Messenger.Bench;

/// <summary>The command line: <c>&lt;workload&gt; [options]</c>; <c>--quick</c> shrinks every workload to a smoke run.</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project Bench -- <workload> [options]
          workloads: idle | chat | offline | history | presence | relay | group | push | all
          --quick                 every workload small and short (all --quick: about a minute; asserts no speed)
          --url URL               target a running server instead of starting one (no RSS/CPU unless --pid)
          --pid N                 with --url: the server's process id, for RSS and CPU figures
          --json FILE             write one JSON object per workload (parameters and figures)
          --idle 1000,5000,10000  idle: authenticated connections to hold (cumulative)
          --settle S              idle: seconds to wait before reading RSS (default 30: long enough for a quiet server to return its spare memory;
                                  RSS is read every second through its second half, lowest and highest shown)
          --baseline-settle S     idle: seconds to wait before reading the baseline RSS (default: the same as --settle;
                                  shorter for a long settle, where the baseline needs no hour of its own)
          --users N               chat/relay: online users, in 1:1 pairs (default 1000)
          --rates R1,R2,...       chat/relay: total send rates to step through, msgs/s; with the group workload
                                  alone: its rates (as --group-rates)
          --step-seconds S        chat/relay/group: seconds per step (default 10)
          --warmup S              chat/relay/group/push: seconds of sends before the first step, not reported (default 20:
                                  long enough for a fresh server's JIT to finish compiling the send path; chat's JIT ms
                                  column shows what it still compiled in each step)
          --window N              chat/group: most unacknowledged sends per socket (default 200; the server allows 256)
          --text-bytes N          message text length (default 32)
          --no-relay              chat: skip the bare-relay comparison
          --messages N            offline: messages queued for the offline user (default 10000)
          --history-messages N    history: conversation length (default 100000)
          --seconds S             history: seconds per measurement (default 5)
          --watchers N            presence: online users watching one popular user (default 1000)
          --toggles N             presence: online/offline cycles of the popular user (default 20)
          --members N             group: members of the one group, its owner included (default 1000; at most the
                                  server's Messenger:MaxGroupMembers, 1024)
          --group-rates R1,R2,... group: messages/s into the group to step through (default 5,10,20,40); each is
                                  delivered to every online member, so deliveries/s = rate x online members
          --offline-fractions F1,F2,...
                                  group: one case per fraction of the members left offline (no socket; their logs
                                  still get every message), each on a fresh server (default 0,0.9)
          --senders N             group: online members that send, round-robin (default 4)
          --push-users N          push: offline recipients (default 1000): the group case's group has N members (the
                                  sender and N-1 offline), the direct case N offline users in 1:1 conversations
          --push-cases C1,C2,...  push: cases, each on a fresh server (default group,direct,delay): group and direct
                                  with Push:Delay 0 (the pipeline alone); delay = group at the server's default 2 s
          --push-group-rates R1,R2,...
                                  push group: messages/s into the group (default 1,2,5,10,20); each makes N-1 notifications
          --push-direct-rates R1,R2,...
                                  push direct: messages/s, round-robin over the recipients (default 200,500,1000,2000,3000)
          --push-delay-rates R1,R2,...
                                  push delay: messages/s into the group at the 2 s delay (default 0.25,1: below and
                                  above one message per delay); its steps last at least 20 s
          --push-senders N        push direct: online users sending, each to its share of the recipients (default 50: with
                                  4, the send path over 4 sockets tops out near 1,000 msgs/s before push does)
          --push-webhook-ms MS    push: the bench's webhook answers each request after MS ms, as a relay to APNs/FCM
                                  would (default 0: at once)
          --push-p99-ms MS        push: the p99 from commit to webhook a sustainable step stays under, on top of
                                  the delay (default 1000)
          --no-cache              register fresh accounts instead of reusing seeded ones
          --gateway PATH          another build of Messenger.Gateway.dll to test (e.g. a before/after copy)
          --cluster SxG           chat/idle: against a local cluster (scripts/cluster.sh) of S silos and G gateways in
                                  client mode over PostgreSQL, users spread over the gateways; server CPU and RSS
                                  are the silos' and gateways' together (PostgreSQL counts as "other")
          --targets T1,T2,...     chat/idle: the same workloads against each target in turn (standalone or SxG),
                                  then a table comparing them, e.g. --targets standalone,1x1,2x2
          --server-env K=V        environment variable for the Gateway process (repeatable), e.g. DOTNET_gcServer=0
          --keep                  keep data directories after the run
        """;

    public string Workload { get; private set; } = "";
    public bool Quick { get; private set; }
    public Uri? Url { get; private set; }
    public int? Pid { get; private set; }
    public string? JsonPath { get; private set; }
    public int[] IdleCounts { get; private set; } = [1000, 5000, 10000];
    public TimeSpan Settle { get; private set; } = TimeSpan.FromSeconds(30);
    /// <summary>How long the idle workload waits before reading its baseline; null: <see cref="Settle"/>.</summary>
    public TimeSpan? BaselineSettle { get; private set; }
    public int ChatUsers { get; private set; } = 1000;
    public double[] Rates { get; private set; } = [1000, 2000, 3000, 5000, 10000, 20000, 50000];
    /// <summary>Rates the relay goes on to once the chat rates are done, until it fails: the machine's limit.</summary>
    public double[] RelayExtraRates { get; private set; } = [100000, 200000];
    public TimeSpan StepDuration { get; private set; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(20);
    public int Window { get; private set; } = 200;
    public int TextBytes { get; private set; } = 32;
    public bool Relay { get; private set; } = true;
    public int OfflineMessages { get; private set; } = 10000;
    public int PresenceWatchers { get; private set; } = 1000;
    public int PresenceToggles { get; private set; } = 20;
    public int GroupMembers { get; private set; } = 1000;
    public double[] GroupRates { get; private set; } = [5, 10, 20, 40];
    /// <summary>One group case per entry: the share of the members with no socket (0 = all online).</summary>
    public double[] OfflineFractions { get; private set; } = [0, 0.9];
    public int GroupSenders { get; private set; } = 4;
    public int PushUsers { get; private set; } = 1000;
    public string[] PushCases { get; private set; } = ["group", "direct", "delay"];
    public double[] PushGroupRates { get; private set; } = [1, 2, 5, 10, 20];
    public double[] PushDirectRates { get; private set; } = [200, 500, 1000, 2000, 3000];
    public double[] PushDelayRates { get; private set; } = [0.25, 1];
    public int PushSenders { get; private set; } = 50;
    public double PushP99BoundMs { get; private set; } = 1000;
    public TimeSpan PushWebhookLatency { get; private set; } = TimeSpan.Zero;
    public int HistoryMessages { get; private set; } = 100000;
    public TimeSpan HistoryDuration { get; private set; } = TimeSpan.FromSeconds(5);
    public bool ReuseAccounts { get; private set; } = true;
    public bool Keep { get; private set; }
    public string? GatewayDll { get; private set; }
    /// <summary>What the workloads run against, in turn: null is the standalone gateway, else a cluster's shape.</summary>
    public List<(int Silos, int Gateways)?> Targets { get; private set; } = [null];

    /// <summary>The first target's cluster shape, if a cluster.</summary>
    public (int Silos, int Gateways)? Cluster => Targets[0];

    /// <summary>These options with one target only.</summary>
    public BenchOptions ForTarget((int Silos, int Gateways)? target)
    {
        var copy = (BenchOptions)MemberwiseClone();
        copy.Targets = [target];
        return copy;
    }

    public static string TargetName((int Silos, int Gateways)? target) =>
        target is { } t ? $"{t.Silos} silo{(t.Silos == 1 ? "" : "s")} + {t.Gateways} gateway{(t.Gateways == 1 ? "" : "s")}" : "standalone";
    public Dictionary<string, string> ServerEnvironment { get; } = new(StringComparer.Ordinal);

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0) throw new ArgumentException("no workload given");
        var o = new BenchOptions { Workload = args[0] };
        if (o.Workload is not ("idle" or "chat" or "offline" or "history" or "presence" or "relay" or "group" or "push" or "all"))
        {
            throw new ArgumentException($"unknown workload '{o.Workload}'");
        }
        if (args.Contains("--quick")) o.ApplyQuick();
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--quick": break;
                case "--url": o.Url = new Uri(Value()); break;
                case "--pid": o.Pid = Int(Value(), name); break;
                case "--cluster": o.Targets = [Shape(Value(), name)]; break;
                case "--targets":
                    o.Targets = [.. Value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                        .Select(t => t == "standalone" ? ((int, int)?)null : Shape(t, name))];
                    if (o.Targets.Count == 0) throw new ArgumentException("--targets needs at least one target");
                    break;
                case "--json": o.JsonPath = Value(); break;
                case "--idle": o.IdleCounts = List(Value(), name).Select(v => (int)v).ToArray(); break;
                case "--settle": o.Settle = TimeSpan.FromSeconds(Number(Value(), name)); break;
                case "--baseline-settle": o.BaselineSettle = TimeSpan.FromSeconds(Number(Value(), name)); break;
                case "--users": o.ChatUsers = Int(Value(), name); break;
                case "--rates" when o.Workload == "group": o.GroupRates = List(Value(), name); break;
                case "--rates": o.Rates = List(Value(), name); o.RelayExtraRates = []; break;
                case "--warmup": o.Warmup = TimeSpan.FromSeconds(Number(Value(), name)); break;
                case "--step-seconds": o.StepDuration = TimeSpan.FromSeconds(Number(Value(), name)); break;
                case "--window": o.Window = Int(Value(), name); break;
                case "--text-bytes": o.TextBytes = Int(Value(), name); break;
                case "--no-relay": o.Relay = false; break;
                case "--messages": o.OfflineMessages = Int(Value(), name); break;
                case "--watchers": o.PresenceWatchers = Int(Value(), name); break;
                case "--toggles": o.PresenceToggles = Int(Value(), name); break;
                case "--members": o.GroupMembers = Int(Value(), name); break;
                case "--group-rates": o.GroupRates = List(Value(), name); break;
                case "--offline-fractions": o.OfflineFractions = Fractions(Value(), name); break;
                case "--senders": o.GroupSenders = Int(Value(), name); break;
                case "--push-users": o.PushUsers = Int(Value(), name); break;
                case "--push-cases":
                    o.PushCases = Value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (o.PushCases.Length == 0 || o.PushCases.Any(c => c is not ("group" or "direct" or "delay")))
                    {
                        throw new ArgumentException("--push-cases takes group, direct and delay");
                    }
                    break;
                case "--push-group-rates": o.PushGroupRates = List(Value(), name); break;
                case "--push-direct-rates": o.PushDirectRates = List(Value(), name); break;
                case "--push-delay-rates": o.PushDelayRates = List(Value(), name); break;
                case "--push-senders": o.PushSenders = Int(Value(), name); break;
                case "--push-p99-ms": o.PushP99BoundMs = Number(Value(), name); break;
                case "--push-webhook-ms": o.PushWebhookLatency = TimeSpan.FromMilliseconds(Number(Value(), name)); break;
                case "--history-messages": o.HistoryMessages = Int(Value(), name); break;
                case "--seconds": o.HistoryDuration = TimeSpan.FromSeconds(Number(Value(), name)); break;
                case "--no-cache": o.ReuseAccounts = false; break;
                case "--keep": o.Keep = true; break;
                case "--gateway": o.GatewayDll = Path.GetFullPath(Value()); break;
                case "--server-env":
                    var pair = Value().Split('=', 2);
                    if (pair.Length != 2 || pair[0].Length == 0) throw new ArgumentException("--server-env needs KEY=VALUE");
                    o.ServerEnvironment[pair[0]] = pair[1];
                    break;
                default: throw new ArgumentException($"unknown option '{name}'");
            }
        }
        if (o.ChatUsers < 2 || o.ChatUsers % 2 != 0) throw new ArgumentException("--users must be an even number of at least 2");
        if (o.Window is < 1 or > 100_000) throw new ArgumentException("--window must be 1..100000");
        if (o.TextBytes is < 1 or > 4000) throw new ArgumentException("--text-bytes must be 1..4000");
        if (o.GroupMembers < 2) throw new ArgumentException("--members must be at least 2 (the owner and one more)");
        if (o.GroupRates.Length == 0) throw new ArgumentException("--group-rates needs at least one rate");
        if (o.OfflineFractions.Length == 0) throw new ArgumentException("--offline-fractions needs at least one fraction");
        foreach (var fraction in o.OfflineFractions)
        {
            if (OnlineMembers(o.GroupMembers, fraction) < o.GroupSenders)
            {
                throw new ArgumentException($"--offline-fractions {fraction} leaves fewer online members of {o.GroupMembers} than the {o.GroupSenders} senders");
            }
        }
        if (o.PushUsers < 2) throw new ArgumentException("--push-users must be at least 2");
        if (o.PushCases.Contains("group") || o.PushCases.Contains("delay"))
        {
            if (o.PushUsers > 1024) throw new ArgumentException("--push-users is the group's size there: at most the server's Messenger:MaxGroupMembers, 1024");
        }
        if (o.PushGroupRates.Length == 0 || o.PushDirectRates.Length == 0 || o.PushDelayRates.Length == 0)
        {
            throw new ArgumentException("each push case needs at least one rate");
        }
        var clusters = o.Targets.Any(t => t is not null);
        if (clusters && o.Workload is not ("chat" or "idle"))
        {
            throw new ArgumentException("a cluster target runs the chat and idle workloads only (the others restart or inspect a standalone server)");
        }
        if ((clusters || o.Targets.Count > 1) && o.Url is not null) throw new ArgumentException("--cluster/--targets and --url exclude each other");
        return o;
    }

    private void ApplyQuick()
    {
        Quick = true;
        IdleCounts = [50, 100];
        Settle = TimeSpan.FromSeconds(1);
        ChatUsers = 100;
        Rates = [500, 1000];
        RelayExtraRates = [];
        StepDuration = TimeSpan.FromSeconds(2);
        Warmup = TimeSpan.FromSeconds(1);
        OfflineMessages = 2000;
        HistoryMessages = 3000;
        PresenceWatchers = 100;
        PresenceToggles = 3;
        GroupMembers = 50;
        GroupRates = [5, 10];
        OfflineFractions = [0, 0.8];
        GroupSenders = 2;
        HistoryDuration = TimeSpan.FromSeconds(1.5);
        // 100 users: the accounts the other quick workloads need anyway (presence: 101), so none is registered for push.
        PushUsers = 100;
        PushCases = ["group", "direct"];
        PushGroupRates = [5];
        PushDirectRates = [100];
        PushSenders = 1;
    }

    /// <summary>How many accounts the selected workloads need at most (they share one seed).</summary>
    public int AccountsNeeded() => Workload switch
    {
        "idle" => IdleCounts.Max(),
        "chat" => ChatUsers,
        "offline" or "history" => 2,
        "presence" => PresenceWatchers + 1,
        "relay" => 0,
        "group" => GroupMembers,
        "push" => PushAccounts,
        _ => new[] { IdleCounts.Max(), ChatUsers, PresenceWatchers + 1, GroupMembers, PushAccounts }.Max(),
    };

    /// <summary>Accounts the push cases need: the group's members, or the direct case's recipients and senders.</summary>
    public int PushAccounts => PushCases.Contains("direct") ? PushUsers + PushSenders : PushUsers;

    /// <summary>Members of a group of <paramref name="members"/> with a socket when <paramref name="offlineFraction"/> of them have none.</summary>
    public static int OnlineMembers(int members, double offlineFraction) => members - (int)Math.Round(members * offlineFraction);

    private static double Number(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new ArgumentException($"{name} needs a positive number, got '{value}'");

    private static int Int(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new ArgumentException($"{name} needs a positive integer, got '{value}'");

    private static double[] Fractions(string value, string name) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v =>
            double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f is >= 0 and < 1 ? f
                : throw new ArgumentException($"{name} needs fractions from 0 up to (not including) 1, got '{v}'")).ToArray();

    private static (int, int) Shape(string value, string name)
    {
        var parts = value.Split('x');
        return parts.Length == 2 ? (Int(parts[0], name), Int(parts[1], name))
            : throw new ArgumentException($"{name} needs SILOSxGATEWAYS, e.g. 2x2, got '{value}'");
    }

    private static double[] List(string value, string name) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Number(v, name)).ToArray();
}
