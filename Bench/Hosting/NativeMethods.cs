using System.Runtime.InteropServices;

namespace Messenger.Bench.Hosting;

/// <summary>The few libc calls the bench needs on Linux: the open-file limit and SIGTERM.</summary>
internal static partial class NativeMethods
{
    private const int RlimitNofile = 7;
    private const int Sigterm = 15;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// Raises this process's open-file limit to <paramref name="wanted"/> (or as far as allowed);
    /// child processes (the server under test, the relay) inherit it. Returns the soft limit now in force.
    /// </summary>
    public static ulong RaiseOpenFileLimit(ulong wanted)
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0) return 0;
        if (limit.Current >= wanted) return limit.Current;
        // Raising the hard limit needs privilege; without it, take the soft limit up to the hard one.
        if (SetRLimit(RlimitNofile, new RLimit { Current = wanted, Maximum = Math.Max(wanted, limit.Maximum) }) != 0)
        {
            SetRLimit(RlimitNofile, new RLimit { Current = limit.Maximum, Maximum = limit.Maximum });
        }
        return GetRLimit(RlimitNofile, out limit) == 0 ? limit.Current : 0;
    }

    /// <summary>Asks a process to shut down cleanly.</summary>
    public static bool Terminate(int pid) => OperatingSystem.IsLinux() && Kill(pid, Sigterm) == 0;
}
