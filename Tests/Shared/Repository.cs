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
        var (code, stdout, stderr) = await RunAsync("bash", [Path.Combine(Root, "scripts", script), .. args], Root, environment, Timeout.InfiniteTimeSpan);
        return (code, stdout + stderr);
    }

    /// <summary>
    /// Runs a program from the repository's root (or <paramref name="workingDirectory"/>) and returns its exit
    /// code and output. A run that outlasts <paramref name="timeout"/> is killed with its children, and a program
    /// that is not installed is named with a pointer to scripts/install-test-deps.sh: both throw.
    /// </summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args,
        string? workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"could not run {program} ({ex.Message}): run scripts/install-test-deps.sh, which installs what the tests need.", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
            }
            return (process.ExitCode, await stdout, await stderr);
        }
    }

    private static string FindRoot()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "Messenger.Orleans.sln"))) root = Path.GetDirectoryName(root);
        return root ?? throw new InvalidOperationException($"repository root not found above {AppContext.BaseDirectory}");
    }
}
