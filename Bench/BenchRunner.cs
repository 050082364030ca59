using Messenger.Bench.Hosting;
using Messenger.Bench.Results;
using Messenger.Bench.Workloads;

namespace Messenger.Bench;

/// <summary>Runs the chosen workloads one after another, each against its own fresh server, and reports.</summary>
public static class BenchRunner
{
    public static async Task<int> RunAsync(BenchOptions options, TextWriter output)
    {
        var report = new Report();
        report.PrintHeader(output);
        // Both processes hold one descriptor per socket; the servers the bench starts inherit this limit.
        var fileLimit = NativeMethods.RaiseOpenFileLimit(65536);
        output.WriteLine($"open-file limit {fileLimit}; scratch {BenchPaths.RunDirectory}");
        if (BenchPaths.Configuration != "Release")
        {
            output.WriteLine($"WARNING: {BenchPaths.Configuration} build: figures are not representative (use dotnet run -c Release)");
        }
        // Our own CPU and our parent's (dotnet run finishing its start-up) do not count as disturbance.
        var parent = ProcStats.ParentPid();
        var (busyBefore, ownBefore, parentBefore) = (ProcStats.MachineBusyTime(), ProcStats.OwnCpuTime(), ProcStats.CpuTime(parent));
        await Task.Delay(1000);
        var ours = (ProcStats.OwnCpuTime() - ownBefore) + (ProcStats.CpuTime(parent) - parentBefore);
        report.BusyBeforeStartPercent = Math.Max(0, (ProcStats.MachineBusyTime() - busyBefore - ours).TotalSeconds * 100);
        output.WriteLine($"machine busy before start: {report.BusyBeforeStartPercent:F0}% of one core" +
                         (report.BusyBeforeStartPercent > 20 ? " -- WARNING: other processes are using the cores; figures will be disturbed" : ""));
        if (options.GatewayDll is { } gateway) BenchPaths.GatewayDll = gateway;
        foreach (var (key, value) in options.ServerEnvironment) ServerProcess.GatewayEnvironment[key] = value;
        report.ServerUnderTest = $"{BenchPaths.GatewayDll} {string.Join(' ', options.ServerEnvironment.Select(p => $"{p.Key}={p.Value}"))}".Trim();
        output.WriteLine($"server under test: {report.ServerUnderTest}");
        var failed = false;
        var workloads = options.Workload == "all" ? ["idle", "chat", "offline", "history", "presence", "group", "push"] : new[] { options.Workload };
        var started = DateTime.UtcNow;
        var byTarget = new List<(string Target, List<WorkloadResult> Results)>();
        foreach (var target in options.Targets)
        {
            var name = BenchOptions.TargetName(target);
            if (options.Targets.Count > 1) output.WriteLine($"\n==== target: {name}");
            var results = new List<WorkloadResult>();
            byTarget.Add((name, results));
            await using var context = new BenchContext(options.ForTarget(target), output);
            if (!await RunWorkloadsAsync(context, workloads, results, output)) failed = true;
            if (options.Targets.Count > 1) foreach (var result in results) result.Parameters["target"] = name;
            // The bar is about the product as people run it: the standalone server's figures only.
            if (target is null) report.Workloads.AddRange(results);
            else report.Extra.AddRange(results);
        }
        if (byTarget.Count > 1) output.Write(TargetComparison.Table(byTarget));

        output.WriteLine();
        output.WriteLine("== The bar (figures from this run only; " + Report.SharedCoresNote + ")");
        output.Write(Bar.Check(report.Workloads));
        output.WriteLine($"total {(DateTime.UtcNow - started).TotalSeconds:F0} s; server logs under {BenchPaths.RunDirectory}");
        if (options.JsonPath is { } path)
        {
            await report.WriteJsonAsync(path);
            output.WriteLine($"wrote {Path.GetFullPath(path)}");
        }
        return failed ? 1 : 0;
    }

    private static async Task<bool> RunWorkloadsAsync(BenchContext context, string[] workloads, List<WorkloadResult> into, TextWriter output)
    {
        try
        {
            if (context.Options.AccountsNeeded() > 0) await context.AccountsAsync(context.Options.AccountsNeeded());
        }
        catch (Exception ex)
        {
            output.WriteLine($"FAILED to prepare accounts: {ex}");
            return false;
        }
        var ok = true;
        foreach (var name in workloads)
        {
            output.WriteLine();
            output.WriteLine($"-- {name}");
            try
            {
                var results = name switch
                {
                    "idle" => await IdleWorkload.RunAsync(context),
                    "chat" => await ChatWorkload.RunAsync(context),
                    "offline" => await OfflineWorkload.RunAsync(context),
                    "history" => await HistoryWorkload.RunAsync(context),
                    "presence" => await PresenceWorkload.RunAsync(context),
                    "group" => await GroupWorkload.RunAsync(context),
                    "push" => await PushWorkload.RunAsync(context),
                    "relay" => [(await RelayWorkload.RunAsync(context)).Result],
                    _ => throw new ArgumentException(name),
                };
                into.AddRange(results);
                foreach (var result in results) result.Print(output);
                if (results.Any(r => r.Failures.Count > 0)) ok = false;
            }
            catch (Exception ex)
            {
                ok = false;
                output.WriteLine($"FAILED {name}: {ex}");
            }
        }
        return ok;
    }
}
