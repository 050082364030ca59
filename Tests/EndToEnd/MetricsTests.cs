using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary><c>/metrics</c> (Prometheus text) after real traffic: the counters match what was sent.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_CountWhatWasSentDeliveredRefusedAndConnected()
    {
        await using var server = await ServerProcess.StartAsync();
        var alice = await Chat.NewUserAsync(server.BaseAddress);
        var bob = await Chat.NewUserAsync(server.BaseAddress);
        var conversation = await Chat.OpenDirectAsync(server.BaseAddress, alice, bob);
        await using var bobDevice = await Chat.ConnectAsync(server.BaseAddress, bob.Sessions[0]);
        using var http = Chat.Http(server.BaseAddress, alice.Sessions[0]);
        for (var i = 0; i < 5; i++) await http.SendAsync(conversation, $"m{i}", $"message {i}");
        await http.SendAsync(conversation, "m0", "message 0"); // a retry: no second message
        await Assert.ThrowsAnyAsync<Exception>(() => http.SendAsync(conversation, new string('x', 65), "too long an id"));

        using var scraper = new HttpClient { BaseAddress = server.BaseAddress };
        var expected = new Dictionary<string, double>
        {
            ["messenger_messages_committed_total"] = 5,
            ["messenger_messages_delivered_total"] = 10, // to both members
            ["messenger_errors_total{code=\"invalid_request\"}"] = 1,
            ["messenger_gateway_sockets"] = 1,
            ["messenger_send_ack_duration_milliseconds_count"] = 6, // the retry was answered too
            ["messenger_delivery_duration_milliseconds_count"] = 5, // to Bob's socket (Alice has none)
        };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        Dictionary<string, double> seen;
        while (true)
        {
            seen = PrometheusText.Parse(await scraper.GetStringAsync("/metrics"));
            // Bob's device received them: Alice's log gets their counts, carried by a later delivery or on their own.
            var receiptUpdates = PrometheusText.Sum(seen, "messenger_receipts_updates_total");
            if (expected.All(e => seen.GetValueOrDefault(e.Key) == e.Value) && receiptUpdates >= 1) break;
            Assert.True(DateTime.UtcNow < deadline,
                "after 20 s: " + string.Join(", ", expected.Keys.Select(k => $"{k} = {seen.GetValueOrDefault(k)} (want {expected[k]})"))
                + $", messenger_receipts_updates_total = {receiptUpdates} (want at least 1)");
            await Task.Delay(250); // the exporter caches a scrape briefly
        }
        // The latency histograms have buckets fine enough below 10 ms for percentiles there (the bench reads them):
        // five sends with commits, all of them within the buckets' range.
        Assert.Contains("messenger_store_commit_duration_milliseconds_bucket{le=\"0.25\"}", seen.Keys);
        Assert.Contains("messenger_send_ack_duration_milliseconds_bucket{le=\"1.5\"}", seen.Keys);
        var commits = PrometheusText.Sum(seen, "messenger_store_commit_duration_milliseconds_count");
        Assert.InRange(commits, 1, 5);
        Assert.InRange(PrometheusText.Quantile([], seen, "messenger_store_commit_duration_milliseconds", 0.5)!.Value, 0, 10_000);
        Assert.Contains(seen.Keys, k => k.StartsWith("orleans_", StringComparison.Ordinal)); // Orleans' own meters too
        // Grain activations, by grain type, among them.
        Assert.Contains(seen.Keys, k => k.StartsWith("orleans_catalog_activation_working_set{", StringComparison.Ordinal) && k.Contains("grain_type=", StringComparison.Ordinal));
        // And the runtime's: what the process allocated (it has, serving all that), its collections and their pauses.
        Assert.True(PrometheusText.Sum(seen, "dotnet_gc_heap_total_allocated_bytes_total") > 0, "no allocated bytes reported");
        Assert.Contains(seen.Keys, k => k.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal) && k.Contains("gc_heap_generation=\"gen0\"", StringComparison.Ordinal));
        Assert.Contains(seen.Keys, k => k.StartsWith("dotnet_gc_pause_time_seconds_total", StringComparison.Ordinal));
        Assert.True(PrometheusText.Sum(seen, "dotnet_thread_pool_work_item_count_total") > 0, "no thread-pool work items reported");
    }
}
