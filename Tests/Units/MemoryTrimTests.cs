using Messenger.Grains.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Messenger.Tests.Units;

/// <summary>
/// When a process returns its spare memory: only once quiet, only after real growth, not too often; and when one that
/// allocates slowly has its young generations collected early.
/// </summary>
public sealed class MemoryTrimTests
{
    private const long MiB = 1L << 20;
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private static MemoryTrimOptions Options() => new()
    {
        CheckInterval = TimeSpan.FromSeconds(5),
        QuietAllocationBytesPerSecond = MiB,
        MinimumGrowthBytes = 32 * MiB,
        MinimumTrimInterval = TimeSpan.FromSeconds(30),
        SlowGrowthTrimInterval = TimeSpan.FromMinutes(10),
        CollectAfterBytes = 16 * MiB,
    };

    [Fact]
    public void Policy_TrimsOnlyWhenQuietAfterGrowingByTheMinimumAndByHalf()
    {
        var policy = new QuietTrimPolicy(Options());
        var t = T0;
        long allocated = 0;
        Assert.False(policy.ShouldTrim(t, allocated, 100 * MiB)); // the first check only reads

        // Start-up left 100 MiB, but the process is busy: 10 MiB/s allocated over the interval.
        t += TimeSpan.FromSeconds(5); allocated += 50 * MiB;
        Assert.False(policy.ShouldTrim(t, allocated, 100 * MiB));

        // Quiet now (2 MiB in 5 s): what start-up left goes back.
        t += TimeSpan.FromSeconds(5); allocated += 2 * MiB;
        Assert.True(policy.ShouldTrim(t, allocated, 100 * MiB));
        policy.Trimmed(t, allocated, 100 * MiB);

        // Grown too little since: 120 MiB is 20 above what the trim left, and not half again.
        t += TimeSpan.FromSeconds(60);
        Assert.False(policy.ShouldTrim(t, allocated, 120 * MiB));

        // 140 MiB: 40 above, but less than half again (150).
        t += TimeSpan.FromSeconds(5);
        Assert.False(policy.ShouldTrim(t, allocated, 140 * MiB));

        // Busy again while it grows to 200 MiB; then quiet, and 200 MiB is both.
        t += TimeSpan.FromSeconds(5); allocated += 100 * MiB;
        Assert.False(policy.ShouldTrim(t, allocated, 200 * MiB));
        t += TimeSpan.FromSeconds(5); allocated += MiB;
        Assert.True(policy.ShouldTrim(t, allocated, 200 * MiB));
    }

    [Fact]
    public void Policy_BeforeTheFirstTrim_LessThanTheMinimumIsLeftAlone()
    {
        var policy = new QuietTrimPolicy(Options());
        Assert.False(policy.ShouldTrim(T0, 0, 20 * MiB));
        Assert.False(policy.ShouldTrim(T0 + TimeSpan.FromSeconds(5), 0, 31 * MiB));
        Assert.True(policy.ShouldTrim(T0 + TimeSpan.FromSeconds(10), 0, 32 * MiB));
    }

    [Fact]
    public void Policy_AfterATrim_WaitsTheMinimumInterval_AndMeasuresGrowthFromWhatTheTrimLeft()
    {
        var policy = new QuietTrimPolicy(Options());
        var t = T0;
        Assert.False(policy.ShouldTrim(t, 0, 100 * MiB));
        t += TimeSpan.FromSeconds(5);
        Assert.True(policy.ShouldTrim(t, 0, 300 * MiB));
        // The trim's own collection allocated nothing that counts; it left 150 MiB.
        policy.Trimmed(t, 0, 150 * MiB);

        t += TimeSpan.FromSeconds(5);
        Assert.False(policy.ShouldTrim(t, 0, 400 * MiB)); // grown and quiet, but 5 s after the last trim
        t += TimeSpan.FromSeconds(25);
        Assert.True(policy.ShouldTrim(t, 0, 400 * MiB)); // 30 s after it

        policy.Trimmed(t, 0, 150 * MiB);
        t += TimeSpan.FromSeconds(60);
        Assert.False(policy.ShouldTrim(t, 0, 200 * MiB)); // from 150: not half again
        t += TimeSpan.FromSeconds(5);
        Assert.True(policy.ShouldTrim(t, 0, 230 * MiB));
    }

    [Fact]
    public void Policy_ASlowCreepByTheMinimum_IsTrimmedOnceTheSlowGrowthIntervalHasPassed()
    {
        var policy = new QuietTrimPolicy(Options()); // 32 MiB, 10 minutes
        var t = T0;
        Assert.False(policy.ShouldTrim(t, 0, 100 * MiB));
        t += TimeSpan.FromSeconds(5);
        Assert.True(policy.ShouldTrim(t, 0, 300 * MiB));
        policy.Trimmed(t, 0, 280 * MiB);
        var trimmedAt = t;

        // Quiet throughout, creeping up: 300 MiB is 20 above (under the minimum), 330 is 50 above but not half again.
        t = trimmedAt + TimeSpan.FromMinutes(5);
        Assert.False(policy.ShouldTrim(t, 0, 300 * MiB));
        t = trimmedAt + TimeSpan.FromMinutes(9);
        Assert.False(policy.ShouldTrim(t, 0, 330 * MiB)); // by the minimum, but 9 minutes after the trim
        t = trimmedAt + TimeSpan.FromMinutes(10);
        Assert.False(policy.ShouldTrim(t, 0, 311 * MiB)); // 10 minutes, but 31 MiB is under the minimum
        t += TimeSpan.FromSeconds(5);
        Assert.True(policy.ShouldTrim(t, 0, 312 * MiB)); // both

        // Busy: no trim, however long since the last and however much it grew.
        policy.Trimmed(t, 0, 280 * MiB);
        t += TimeSpan.FromMinutes(30);
        Assert.False(policy.ShouldTrim(t, 0, 300 * MiB));
        t += TimeSpan.FromSeconds(5);
        Assert.False(policy.ShouldTrim(t, 100 * MiB, 400 * MiB)); // 20 MiB/s

        // Switched off: only growth by half counts.
        var options = Options();
        options.SlowGrowthTrimInterval = TimeSpan.Zero;
        var halfOnly = new QuietTrimPolicy(options);
        t = T0;
        Assert.False(halfOnly.ShouldTrim(t, 0, 100 * MiB));
        t += TimeSpan.FromSeconds(5);
        Assert.True(halfOnly.ShouldTrim(t, 0, 300 * MiB));
        halfOnly.Trimmed(t, 0, 280 * MiB);
        t += TimeSpan.FromHours(5);
        Assert.False(halfOnly.ShouldTrim(t, 0, 400 * MiB)); // 120 above, not half again
        t += TimeSpan.FromSeconds(5);
        Assert.True(halfOnly.ShouldTrim(t, 0, 420 * MiB));
    }

    [Fact]
    public void Policy_AQuietIntervalIsMeasuredAsARate_WhateverTheTimeBetweenChecks()
    {
        var policy = new QuietTrimPolicy(Options());
        Assert.False(policy.ShouldTrim(T0, 0, 100 * MiB));
        // 40 MiB over 60 s is 0.67 MiB/s: quiet, though more than one interval's worth.
        Assert.True(policy.ShouldTrim(T0 + TimeSpan.FromSeconds(60), 40 * MiB, 300 * MiB));
    }

    [Fact]
    public void CollectionPolicy_CollectsOnlyWhenTheCollectorSkippedAWholeInterval_AfterTheMinimumWasAllocated()
    {
        var policy = new QuietCollectionPolicy(Options()); // 16 MiB
        Assert.False(policy.ShouldCollect(0, 7)); // the first check only reads

        // Busy: the collector ran between every two checks, however much was allocated.
        Assert.False(policy.ShouldCollect(100 * MiB, 8));
        Assert.False(policy.ShouldCollect(200 * MiB, 9));

        // Slow: no collection since the last check, and 10 MiB is under the minimum...
        Assert.False(policy.ShouldCollect(210 * MiB, 9));
        // ...16 MiB since the last collection was seen is enough.
        Assert.True(policy.ShouldCollect(216 * MiB, 9));
        policy.Collected(216 * MiB, 10);

        // Counted from its own collection: 15 MiB later, no; then the collector ran by itself, and counting starts again.
        Assert.False(policy.ShouldCollect(231 * MiB, 10));
        Assert.False(policy.ShouldCollect(240 * MiB, 11));
        Assert.False(policy.ShouldCollect(250 * MiB, 11));
        Assert.True(policy.ShouldCollect(256 * MiB, 11));
    }

    [Fact]
    public void CollectionPolicy_AllocatingTheMinimumWithinOneInterval_IsNotSlow()
    {
        // A machine with many heaps: the collector's budgets are large enough that it skips intervals under load.
        var policy = new QuietCollectionPolicy(Options()); // 16 MiB
        Assert.False(policy.ShouldCollect(0, 1));
        Assert.False(policy.ShouldCollect(40 * MiB, 1)); // 40 MiB in one interval, no collection: load, not idle
        Assert.False(policy.ShouldCollect(80 * MiB, 1));
        Assert.True(policy.ShouldCollect(81 * MiB, 1)); // then slow: 1 MiB in the interval, 81 since
    }

    [Fact]
    public void CollectionPolicy_AtZero_NeverCollects()
    {
        var options = Options();
        options.CollectAfterBytes = 0;
        var policy = new QuietCollectionPolicy(options);
        for (var i = 0; i < 5; i++) Assert.False(policy.ShouldCollect(i * 1024 * MiB, 3));
    }

    [Fact]
    public async Task Trimmer_AllocatingSlowly_CollectsTheYoungGenerationsEarly_ButNotWhileTheCollectorRunsByItself()
    {
        var time = new FakeTimeProvider(T0);
        var options = Options();
        options.TrimWhenQuiet = false; // collections alone
        var memory = new FakeMemory { Resident = 100 * MiB };
        var trimmer = Trimmer(options, memory, time);
        await trimmer.StartAsync(CancellationToken.None);
        try
        {
            await NextCheckAsync(time, trimmer); // the first check reads
            // Under load: 200 MiB per interval, and the collector runs in each.
            for (var i = 0; i < 5; i++)
            {
                memory.Allocated += 200 * MiB;
                memory.Collections++;
                await NextCheckAsync(time, trimmer);
            }
            Assert.Equal(0, memory.YoungCollections);
            // Idle: 4 MiB per interval and no collection of its own; the fourth interval reaches 16 MiB since the last one
            // seen, and the next 16 MiB are counted from that collection.
            for (var i = 0; i < 8; i++)
            {
                memory.Allocated += 4 * MiB;
                await NextCheckAsync(time, trimmer);
                Assert.Equal(i < 3 ? 0 : i < 7 ? 1 : 2, memory.YoungCollections);
            }
            Assert.Equal(0, memory.Trims);
        }
        finally
        {
            await trimmer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Trimmer_ChecksOnItsTimer_TrimsWhenThePolicySays_AndNotWhenSwitchedOff()
    {
        var time = new FakeTimeProvider(T0);
        var memory = new FakeMemory { Resident = 10 * MiB }; // below the minimum: checks before the burst trim nothing
        var trimmer = Trimmer(Options(), memory, time);
        await trimmer.StartAsync(CancellationToken.None);
        try
        {
            await NextCheckAsync(time, trimmer); // the first check reads
            memory.Resident = 300 * MiB;
            memory.Allocated += 100 * MiB; // the burst
            await NextCheckAsync(time, trimmer);
            Assert.Equal(0, memory.Trims);
            await NextCheckAsync(time, trimmer); // quiet now
            Assert.Equal(1, memory.Trims);
            Assert.Equal(120 * MiB, memory.Resident);
            for (var i = 0; i < 20; i++) await NextCheckAsync(time, trimmer);
            Assert.Equal(1, memory.Trims); // nothing grew since
        }
        finally
        {
            await trimmer.StopAsync(CancellationToken.None);
        }

        var off = Options();
        off.TrimWhenQuiet = false;
        off.CollectAfterBytes = 0;
        var idle = new FakeMemory { Resident = 100 * MiB };
        var disabled = Trimmer(off, idle, time);
        await disabled.StartAsync(CancellationToken.None);
        idle.Resident = 900 * MiB;
        for (var i = 0; i < 10; i++)
        {
            time.Advance(off.CheckInterval);
            await Task.Delay(20);
        }
        await disabled.StopAsync(CancellationToken.None);
        Assert.Equal(0, idle.Reads);
        Assert.Equal(0, idle.Trims);
        Assert.Equal(0, idle.YoungCollections);
    }

    [Theory]
    [InlineData("CheckInterval", "00:00:00.010")]
    [InlineData("QuietAllocationBytesPerSecond", "0")]
    [InlineData("MinimumGrowthBytes", "-1")]
    [InlineData("MinimumTrimInterval", "-00:00:01")]
    [InlineData("SlowGrowthTrimInterval", "-00:00:01")]
    [InlineData("CollectAfterBytes", "-1")]
    public void Options_AWrongValue_IsNamedInTheError(string name, string value)
    {
        var options = Options();
        var property = typeof(MemoryTrimOptions).GetProperty(name)!;
        property.SetValue(options, System.ComponentModel.TypeDescriptor.GetConverter(property.PropertyType).ConvertFromInvariantString(value));
        var error = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains($"Memory:{name}", error.Message, StringComparison.Ordinal);
        Options().Validate(); // the defaults of the test pass
        new MemoryTrimOptions().Validate(); // and the product's
    }

    private static MemoryTrimmer Trimmer(MemoryTrimOptions options, IProcessMemory memory, TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(options), memory, time, NullLogger<MemoryTrimmer>.Instance);

    // One interval on: one more check, finished (the trimmer's timer exists once StartAsync has returned).
    private static async Task NextCheckAsync(FakeTimeProvider time, MemoryTrimmer trimmer)
    {
        var before = trimmer.CompletedChecks;
        time.Advance(Options().CheckInterval);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (trimmer.CompletedChecks == before && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.True(trimmer.CompletedChecks > before, "the trimmer did not check on its timer");
    }

    private sealed class FakeMemory : IProcessMemory
    {
        private long _resident;
        public long Allocated { get; set; }
        public int Reads { get; private set; }
        public int Trims { get; private set; }
        public int YoungCollections { get; private set; }
        public long AllocatedTotal { get { Reads++; return Allocated; } }
        public long Resident { get => _resident; set => _resident = value; }
        public int Collections { get; set; }
        public void Trim() { Trims++; Collections++; _resident = 120 * MiB; }
        // Leaves the collection count alone, so the tests see the trimmer itself count from its collection.
        public void CollectYoung() => YoungCollections++;
    }
}
