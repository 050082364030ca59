using System.Diagnostics;
using Messenger.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Messenger.Grains.Support;

/// <summary>The process's memory as the trimmer sees it; in production the garbage collector and the operating system's figures.</summary>
public interface IProcessMemory
{
    /// <summary>Bytes allocated since the process started (a running total).</summary>
    long AllocatedTotal { get; }

    /// <summary>The process's resident memory now (its working set).</summary>
    long Resident { get; }

    /// <summary>Garbage collections so far, of any generation (a running count).</summary>
    int Collections { get; }

    /// <summary>Collects the young generations (0 and 1): a short pause.</summary>
    void CollectYoung();

    /// <summary>Gives back as much spare memory as it can: a full, blocking, compacting collection, then the C library's free pages.</summary>
    void Trim();
}

/// <summary>The .NET garbage collector, and on Linux the C library's allocator beside it.</summary>
public sealed class GcProcessMemory : IProcessMemory
{
    private static bool _nativeTrim = OperatingSystem.IsLinux();

    public long AllocatedTotal => GC.GetTotalAllocatedBytes(precise: false);
    public long Resident => Environment.WorkingSet;
    public int Collections => GC.CollectionCount(0);

    public void CollectYoung() => GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);

    public void Trim()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        // What native code freed (SQLite's page caches and statements, the runtime's own) stays in glibc's arenas,
        // resident, until malloc_trim gives the free pages back. Not every C library has it (musl does not).
        if (!_nativeTrim) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _nativeTrim = false;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}

/// <summary>
/// Hands spare memory back to the operating system once the process goes quiet after its resident memory grew
/// (<see cref="QuietTrimPolicy"/>). The garbage collector keeps what a burst made it commit (a few thousand
/// connections arriving at once leave it holding about twice what they need) and gives it back only at collections,
/// which a quiet process rarely makes; a server that sits mostly idle would hold its peak for good. Between trims, a
/// process that allocates slowly has its young generations collected early (<see cref="QuietCollectionPolicy"/>), so
/// its garbage does not spread over new memory for minutes until the collector's own budget runs out.
/// </summary>
public sealed class MemoryTrimmer(
    IOptions<MemoryTrimOptions> options, IProcessMemory memory, TimeProvider time, ILogger<MemoryTrimmer> logger) : BackgroundService
{
    private readonly MemoryTrimOptions _options = options.Value;
    private readonly QuietTrimPolicy _policy = new(options.Value);
    private readonly QuietCollectionPolicy _collections = new(options.Value);

    private PeriodicTimer? _timer;

    /// <summary>Starts the checks; the first is one interval from now.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.TrimWhenQuiet || _options.CollectAfterBytes > 0) _timer = new PeriodicTimer(_options.CheckInterval, time);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer) return;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) Check();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    /// <summary>Checks completed so far (for tests that drive the timer and need to know a check has finished).</summary>
    public int CompletedChecks => Volatile.Read(ref _completedChecks);

    private int _completedChecks;

    /// <summary>One check: trims if that policy says so, or else collects the young generations if that one does.</summary>
    public void Check()
    {
        try
        {
            var allocated = memory.AllocatedTotal;
            if (_options.TrimWhenQuiet && TryTrim(allocated)) return;
            if (_collections.ShouldCollect(allocated, memory.Collections)) CollectYoung();
        }
        finally
        {
            Interlocked.Increment(ref _completedChecks);
        }
    }

    private bool TryTrim(long allocated)
    {
        var before = memory.Resident;
        if (!_policy.ShouldTrim(time.GetUtcNow(), allocated, before)) return false;
        var started = Stopwatch.GetTimestamp();
        memory.Trim();
        var after = memory.Resident;
        var allocatedAfter = memory.AllocatedTotal;
        _policy.Trimmed(time.GetUtcNow(), allocatedAfter, after);
        _collections.Collected(allocatedAfter, memory.Collections);
        MessengerMetrics.MemoryTrims.Add(1);
        MessengerMetrics.MemoryTrimmed.Add(Math.Max(0, before - after));
        logger.LogInformation("Quiet after growing: returned memory to the operating system, resident {Before} MiB -> {After} MiB, in {Ms:F0} ms",
            before >> 20, after >> 20, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return true;
    }

    private void CollectYoung()
    {
        var started = Stopwatch.GetTimestamp();
        memory.CollectYoung();
        _collections.Collected(memory.AllocatedTotal, memory.Collections);
        MessengerMetrics.MemoryQuietCollections.Add(1);
        logger.LogDebug("Allocating slowly: collected the young generations early, in {Ms:F1} ms", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

/// <summary>Registration of <see cref="MemoryTrimmer"/>, shared by gateways and silos.</summary>
public static class MemoryTrimming
{
    /// <summary>Adds the trimmer and its options (section <c>Memory</c>, validated at start-up); adding it twice adds it once.</summary>
    public static IServiceCollection AddMemoryTrimming(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<MemoryTrimOptions>(configuration, MemoryTrimOptions.SectionName, o => o.Validate());
        services.TryAddSingleton<IProcessMemory, GcProcessMemory>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<MemoryTrimmer>();
        return services;
    }
}
