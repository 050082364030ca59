using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Messenger.Bench.Hosting;

/// <summary>
/// The servers the bench started and has not stopped yet. When the bench itself is stopped by a signal (Ctrl-C,
/// SIGTERM from <c>kill</c> or <c>timeout</c>, SIGHUP, SIGQUIT) or exits normally without stopping them, they are
/// killed with it, instead of running on unseen, holding ports and taking CPU from the next run's measurements.
/// (SIGKILL, or a crash of the bench, still leaves them.)
/// </summary>
internal static class ChildProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    // Kept alive for the life of the bench (a collected registration stops handling its signal). The handlers leave
    // the signal's default action in place: the bench still stops, after its children.
    private static readonly PosixSignalRegistration[] Registrations =
        [.. ((PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT, PosixSignal.SIGHUP])
            .Select(signal => PosixSignalRegistration.Create(signal, _ => KillAll()))];

    static ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    public static void Track(Process process) => Live[process.Id] = process;

    public static void Forget(Process process) => Live.TryRemove(process.Id, out _);

    private static void KillAll()
    {
        foreach (var id in Live.Keys)
        {
            if (!Live.TryRemove(id, out var process)) continue;
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
            catch (Exception)
            {
                // Gone already, or not ours to kill any more: the others still are.
            }
        }
    }
}
