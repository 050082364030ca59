using System.Diagnostics;

namespace Messenger.Bench.Hosting;

/// <summary>Resident memory and CPU time of a process, from /proc (Linux).</summary>
public static class ProcStats
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux the bench runs on

    /// <summary>VmRSS in KiB, or -1 when unknown.</summary>
    public static long RssKiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    /// <summary>VmRSS of every process of <paramref name="pids"/> together, in KiB, or -1 when none is known.</summary>
    public static long RssKiB(IReadOnlyList<int> pids)
    {
        var known = pids.Select(RssKiB).Where(kib => kib >= 0).ToList();
        return known.Count == 0 ? -1 : known.Sum();
    }

    /// <summary>User + system CPU time of every process of <paramref name="pids"/> together.</summary>
    public static TimeSpan CpuTime(IReadOnlyList<int> pids) => pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + CpuTime(pid));

    /// <summary>User + system CPU time of <paramref name="pid"/>, or zero when unknown.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        try
        {
            return ReadStat($"/proc/{pid}/stat").Cpu;
        }
        catch (IOException) { return TimeSpan.Zero; }
        catch (UnauthorizedAccessException) { return TimeSpan.Zero; }
    }

    /// <summary>The command name and user + system CPU time in a <c>stat</c> file of /proc (a process's or a thread's).</summary>
    private static (string Name, TimeSpan Cpu) ReadStat(string path)
    {
        var stat = File.ReadAllText(path);
        // The name is in parentheses and may hold spaces; the fields after it start after the last ')'.
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                  + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return (stat[(open + 1)..close], TimeSpan.FromSeconds(ticks / TicksPerSecond));
    }

    /// <summary>
    /// User + system CPU time of every thread of <paramref name="pids"/>, summed by thread name (Linux keeps 15
    /// characters of it: ".NET TP Worker", "sqlite-writer"...), so a report can say which part of a server is busy.
    /// </summary>
    public static Dictionary<string, TimeSpan> ThreadCpuTimes(IReadOnlyList<int> pids)
    {
        var byName = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var pid in pids)
        {
            string[] tasks;
            try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var task in tasks)
            {
                try
                {
                    var (name, cpu) = ReadStat(Path.Combine(task, "stat"));
                    byName[name] = byName.GetValueOrDefault(name) + cpu;
                }
                catch (IOException) { } // the thread ended meanwhile
                catch (UnauthorizedAccessException) { }
            }
        }
        return byName;
    }

    /// <summary>
    /// CPU time all processes on the machine spent busy (user, nice, system, irq, softirq, steal), from
    /// /proc/stat: what is left after the server and the bench is someone else competing for the cores.
    /// </summary>
    public static TimeSpan MachineBusyTime() => MachineTimes().Busy;

    /// <summary>
    /// The machine's busy time (as <see cref="MachineBusyTime"/>) and its steal time (counted in the busy
    /// time): time the hypervisor ran something else while this VM had work for its cores.
    /// </summary>
    public static (TimeSpan Busy, TimeSpan Steal) MachineTimes()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long ticks = 0;
            foreach (var i in (int[])[1, 2, 3, 6, 7, 8]) ticks += long.Parse(f[i], System.Globalization.CultureInfo.InvariantCulture);
            var steal = long.Parse(f[8], System.Globalization.CultureInfo.InvariantCulture);
            return (TimeSpan.FromSeconds(ticks / TicksPerSecond), TimeSpan.FromSeconds(steal / TicksPerSecond));
        }
        catch (IOException) { return (TimeSpan.Zero, TimeSpan.Zero); }
    }

    /// <summary>
    /// Flush (fsync) requests completed by the machine's disks and the milliseconds spent on them, and the writes and
    /// bytes they completed, from /proc/diskstats (whole disks only). Machine-wide, but during a chat step only the
    /// server's SQLite store writes and fsyncs, so it counts the store's durable commits and the bytes they cost the
    /// disk (the WAL, the checkpoints' copies into the database file, the file system's journal) without touching the server.
    /// </summary>
    public static DiskActivity Disks()
    {
        long flushes = 0, ms = 0, writes = 0, sectors = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/diskstats"))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 20 || !Directory.Exists($"/sys/block/{f[2]}")) continue;
                if (f[2].StartsWith("loop", StringComparison.Ordinal) || f[2].StartsWith("ram", StringComparison.Ordinal)
                    || f[2].StartsWith("zram", StringComparison.Ordinal) || f[2].StartsWith("dm-", StringComparison.Ordinal)) continue;
                writes += long.Parse(f[7], System.Globalization.CultureInfo.InvariantCulture);
                sectors += long.Parse(f[9], System.Globalization.CultureInfo.InvariantCulture);
                flushes += long.Parse(f[18], System.Globalization.CultureInfo.InvariantCulture);
                ms += long.Parse(f[19], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        return new DiskActivity(flushes, ms, writes, sectors * 512); // diskstats counts 512-byte sectors whatever the disk's own
    }

    /// <summary>The process that started the bench (dotnet run, a shell), or 0.</summary>
    public static int ParentPid()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return 0; }
    }

    /// <summary>This (load generator) process's CPU time.</summary>
    public static TimeSpan OwnCpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}

/// <summary>
/// CPU used between two moments by the server, by the bench, and by every other process on the
/// machine, each as % of one core (the cores are shared: "other" above a few % means the figures
/// were disturbed). <see cref="StealPercent"/> is the time the hypervisor gave the cores to other machines
/// (the kernel may charge some of it to the process that was running, so it is not always within "other"):
/// a run with steal in it was measured on cores that were not all ours.
/// </summary>
public readonly record struct CpuWindow(double ServerPercent, double BenchPercent, double OtherPercent, double StealPercent, double ServerSeconds)
{
    /// <summary>The window as the workloads' progress lines print it.</summary>
    public string Describe() =>
        $"CPU server {ServerPercent:F0}% bench {BenchPercent:F0}% other {OtherPercent:F0}% (steal {StealPercent:F0}%)";

    public static CpuMark Mark(IReadOnlyList<int>? serverPids)
    {
        var (busy, steal) = ProcStats.MachineTimes();
        return new(serverPids is { } pids ? ProcStats.CpuTime(pids) : TimeSpan.Zero, ProcStats.OwnCpuTime(), busy, steal,
            Driver.Clock.NowUs(), serverPids);
    }
}

/// <summary>A CPU reading; <see cref="Since"/> turns two into a <see cref="CpuWindow"/>.</summary>
public readonly record struct CpuMark(TimeSpan Server, TimeSpan Bench, TimeSpan Machine, TimeSpan Steal, long AtUs, IReadOnlyList<int>? ServerPids)
{
    public CpuWindow Since(CpuMark start)
    {
        var wall = Math.Max(AtUs - start.AtUs, 1) / 1e6;
        var server = (Server - start.Server).TotalSeconds;
        var bench = (Bench - start.Bench).TotalSeconds;
        var other = Math.Max(0, (Machine - start.Machine).TotalSeconds - server - bench);
        return new CpuWindow(
            ServerPids is null ? double.NaN : 100 * server / wall,
            100 * bench / wall,
            100 * other / wall,
            100 * (Steal - start.Steal).TotalSeconds / wall,
            ServerPids is null ? double.NaN : server);
    }

    public CpuMark Now() => CpuWindow.Mark(ServerPids);
}

/// <summary>What the machine's disks did (or, as a difference, did during a step): see <see cref="ProcStats.Disks"/>.</summary>
public readonly record struct DiskActivity(long Flushes, long FlushMs, long Writes, long BytesWritten)
{
    public static DiskActivity operator -(DiskActivity end, DiskActivity start) =>
        new(end.Flushes - start.Flushes, end.FlushMs - start.FlushMs, end.Writes - start.Writes, end.BytesWritten - start.BytesWritten);
}
