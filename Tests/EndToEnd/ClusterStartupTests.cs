using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// A gateway in client mode whose cluster has no silo yet: it answers at once, and serves once a silo
/// comes; its <c>/readyz</c> follows whether it can reach the cluster.
/// </summary>
[Collection(ClusterScenarios.Name)]
public sealed class ClusterStartupTests
{
    [Fact]
    public async Task GatewayWithoutSilos_AnswersUnavailableAtOnce_ThenServesWhenASiloJoins_ReadyzFollowing()
    {
        await using var cluster = await LocalCluster.StartAsync(silos: 0, gateways: 1);
        using var http = new HttpClient { BaseAddress = cluster.Gateway(1), Timeout = TimeSpan.FromSeconds(30) };
        var registration = new { username = Chat.NewUsername(), password = "correct horse battery" };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadinessAsync(http));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        var started = DateTime.UtcNow;
        using (var refused = await http.PostAsJsonAsync("/v1/accounts", registration))
        {
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the refusal took longer than 5 s");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("unavailable", problem.RootElement.GetProperty("code").GetString());
        }

        await cluster.StartAsync("silo", 1);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            using var response = await http.PostAsJsonAsync("/v1/accounts", registration);
            if (response.StatusCode == HttpStatusCode.Created) break;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, $"still unavailable 90 s after the silo started\n{cluster.Logs()}");
            await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync(http));

        // The only silo dies: not ready; it comes back: ready again.
        await cluster.KillAsync("silo", 1);
        await WaitForReadinessAsync(http, HttpStatusCode.ServiceUnavailable, cluster);
        await cluster.StartAsync("silo", 1);
        await WaitForReadinessAsync(http, HttpStatusCode.OK, cluster);
    }

    private static async Task<HttpStatusCode> ReadinessAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/readyz");
        return response.StatusCode;
    }

    private static async Task WaitForReadinessAsync(HttpClient http, HttpStatusCode expected, LocalCluster cluster)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (await ReadinessAsync(http) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"/readyz did not answer {expected} within 90 s\n{cluster.Logs()}");
            await Task.Delay(250);
        }
    }
}
