using System.Reflection;

namespace Messenger.Bench.Hosting;

/// <summary>Where things are: the solution, the server under test, this run's scratch directory.</summary>
public static class BenchPaths
{
    /// <summary>Debug or Release: the server under test is the Gateway built in the same configuration (Bench.csproj builds it).</summary>
    public static string Configuration { get; } =
        typeof(BenchPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public static string SolutionRoot { get; } = FindSolutionRoot();

    /// <summary>The server under test: the Gateway built beside the bench, unless <c>--gateway</c> names another build.</summary>
    public static string GatewayDll { get; set; } = Path.Combine(SolutionRoot, "Gateway", "bin", Configuration, "net10.0", "Messenger.Gateway.dll");

    public static string MigrationsDirectory => Path.Combine(SolutionRoot, "Grains", "Storage", "Sqlite", "Migrations");

    /// <summary>This bench's own assembly (re-invoked for the relay server).</summary>
    public static string BenchDll => typeof(BenchPaths).Assembly.Location;

    /// <summary>Scratch space shared by runs (seeded accounts live here).</summary>
    public static string Scratch { get; } = Path.Combine(Path.GetTempPath(), "messenger-bench");

    /// <summary>
    /// This run's directory: data directories and server logs of every workload. Named by the time and the process,
    /// so two runs started in the same second do not share one.
    /// </summary>
    public static string RunDirectory { get; } = Path.Combine(Scratch,
        "run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Environment.ProcessId);

    private static string FindSolutionRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Messenger.Orleans.sln"))) return dir;
        }
        for (var dir = Directory.GetCurrentDirectory(); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Messenger.Orleans.sln"))) return dir;
        }
        throw new InvalidOperationException("Messenger.Orleans.sln not found above the bench binary or the current directory.");
    }
}
