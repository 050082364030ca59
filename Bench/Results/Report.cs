using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Messenger.Bench.Results;

/// <summary>What one workload measured: parameters and figures for the JSON file, tables and notes for the console.</summary>
public sealed class WorkloadResult(string name, string title)
{
    public string Name { get; } = name;
    public string Title { get; } = title;
    public JsonObject Parameters { get; } = [];
    public JsonObject Figures { get; } = [];
    public List<(string Caption, TextTable Table)> Tables { get; } = [];
    public List<string> Notes { get; } = [];
    /// <summary>What makes the run fail although the workload ran to its end (e.g. a wrong answer from the server).</summary>
    public List<string> Failures { get; } = [];

    public JsonObject ToJson() => new()
    {
        ["workload"] = Name,
        ["title"] = Title,
        ["parameters"] = Parameters.DeepClone(),
        ["figures"] = Figures.DeepClone(),
        ["notes"] = new JsonArray(Notes.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()),
        ["failures"] = new JsonArray(Failures.Select(n => (JsonNode)JsonValue.Create(n)).ToArray()),
    };

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"== {Name}: {Title}");
        foreach (var (caption, table) in Tables)
        {
            if (caption.Length > 0) output.WriteLine($"  {caption}");
            output.Write(table);
        }
        foreach (var note in Notes) output.WriteLine($"  * {note}");
        foreach (var failure in Failures) output.WriteLine($"  FAILED: {failure}");
    }
}

/// <summary>The run: when, which commit, which machine, and every workload's result.</summary>
public sealed class Report
{
    public const string SharedCoresNote = "server and load generator share the same cores";

    public List<WorkloadResult> Workloads { get; } = [];

    /// <summary>Results against cluster targets (<c>--targets</c>): reported, not held against the bar.</summary>
    public List<WorkloadResult> Extra { get; } = [];
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
    public string Commit { get; } = GitCommit();

    /// <summary>The Gateway build and any extra environment it ran with.</summary>
    public string ServerUnderTest { get; set; } = "";

    /// <summary>CPU the machine spent busy in the second before the run (other processes), % of one core.</summary>
    public double BusyBeforeStartPercent { get; set; }

    public string MachineSummary =>
        $"{Environment.ProcessorCount} cores ({CpuModel()}), {MemoryGiB():F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; {SharedCoresNote}";

    public void PrintHeader(TextWriter output)
    {
        output.WriteLine($"Messenger.Orleans bench  {Started:yyyy-MM-dd HH:mm} UTC  commit {Commit}");
        output.WriteLine($"machine: {MachineSummary}");
    }

    public async Task WriteJsonAsync(string path)
    {
        var root = new JsonObject
        {
            ["date"] = Started.ToString("O"),
            ["commit"] = Commit,
            ["serverUnderTest"] = ServerUnderTest,
            ["machine"] = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["cpu"] = CpuModel(),
                ["memoryGiB"] = Math.Round(MemoryGiB(), 1),
                ["os"] = RuntimeInformation.OSDescription,
                ["dotnet"] = Environment.Version.ToString(),
                ["note"] = SharedCoresNote,
                ["busyBeforeStartPercent"] = Math.Round(BusyBeforeStartPercent, 1),
            },
            ["workloads"] = new JsonArray(Workloads.Select(w => (JsonNode)w.ToJson()).ToArray()),
            ["clusterWorkloads"] = new JsonArray(Extra.Select(w => (JsonNode)w.ToJson()).ToArray()),
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static string GitCommit()
    {
        try
        {
            var commit = RunGit("rev-parse --short HEAD").Trim();
            if (commit.Length == 0) return "unknown";
            return RunGit("status --porcelain --untracked-files=no").Trim().Length > 0 ? commit + "+dirty" : commit;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string RunGit(string arguments)
    {
        var info = new ProcessStartInfo("git", arguments)
        {
            WorkingDirectory = Hosting.BenchPaths.SolutionRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var git = Process.Start(info)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        return git.ExitCode == 0 ? output : "";
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "unknown CPU"; }
    }

    private static double MemoryGiB() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
}
