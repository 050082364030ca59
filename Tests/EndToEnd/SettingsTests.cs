using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>The real gateway process and its settings.</summary>
public sealed class SettingsTests
{
    [Fact]
    public async Task Gateway_WithAWrongMemorySetting_StopsAtStartup_NamingIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(null, "--Memory:CheckInterval=00:00:00.010"));
        Assert.Contains("Memory:CheckInterval must be at least", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_QuietAfterStartUp_HandsMemoryBack_LogsAndCountsIt()
    {
        // Start-up leaves well over the 32 MiB minimum resident; an idle gateway allocates next to nothing.
        await using var server = await ServerProcess.StartAsync(null, "--Memory:CheckInterval=00:00:00.500");
        using var scraper = new HttpClient { BaseAddress = server.BaseAddress };
        var trims = await FirstCountAsync(server, scraper, "messenger_memory_trims_total", "trim", TimeSpan.FromMilliseconds(250));
        Assert.Equal(1, trims); // nothing grew since: once
        Assert.Contains(PrometheusText.Parse(await scraper.GetStringAsync("/metrics")).Keys,
            k => k.StartsWith("messenger_memory_trimmed_bytes_total", StringComparison.Ordinal));
        Assert.Contains("Quiet after growing: returned memory to the operating system, resident ", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gateway_AllocatingSlowly_CollectsTheYoungGenerationsEarly_AndCountsIt()
    {
        // An idle gateway allocates little (each scrape of /metrics a little) and its collector does not run by itself
        // between two checks half a second apart: once 256 KiB have been allocated since it last ran, more slowly than
        // that per interval, a check finds it due.
        await using var server = await ServerProcess.StartAsync(null,
            "--Memory:CheckInterval=00:00:00.500", "--Memory:TrimWhenQuiet=false", "--Memory:CollectAfterBytes=262144");
        using var scraper = new HttpClient { BaseAddress = server.BaseAddress };
        // Scraping allocates: now and then, not in every interval.
        await FirstCountAsync(server, scraper, "messenger_memory_quiet_collections_total", "early collection", TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("Quiet after growing", server.Output, StringComparison.Ordinal); // trimming is off
    }

    /// <summary>Scrapes <c>/metrics</c> every <paramref name="every"/> until <paramref name="metric"/> counts one or more (30 s at most); returns its count.</summary>
    private static async Task<double> FirstCountAsync(ServerProcess server, HttpClient scraper, string metric, string what, TimeSpan every)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        double count;
        while ((count = PrometheusText.Sum(PrometheusText.Parse(await scraper.GetStringAsync("/metrics")), metric)) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within 30 s of start-up\n" + server.Output);
            await Task.Delay(every);
        }
        return count;
    }
}
