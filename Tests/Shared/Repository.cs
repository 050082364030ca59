using System.Diagnostics;
using System.Reflection;

namespace Messenger.Testing;

/// <summary>The repository the tests run from: its root, the build configuration, and its scripts.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>Messenger.Orleans.sln</c>, found above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration the tests (and so the server binaries) were built in.</summary>
    public static string Configuration { get; } =
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>Runs <c>scripts/{script}</c> with bash; returns its exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunScriptAsync(string script, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(Root, "scripts", script));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not run bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRoot()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "Messenger.Orleans.sln"))) root = Path.GetDirectoryName(root);
        return root ?? throw new InvalidOperationException($"repository root not found above {AppContext.BaseDirectory}");
    }
}
