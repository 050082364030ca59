using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Messenger.Testing;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>A gateway in client mode whose cluster has no silo yet: it answers at once, and serves once a silo comes.</summary>
public sealed class ClusterStartupTests
{
    [Fact]
    public async Task GatewayWithoutSilos_AnswersUnavailableAtOnce_ThenServesWhenASiloJoins()
    {
        await using var cluster = await LocalCluster.StartAsync(silos: 0, gateways: 1);
        using var http = new HttpClient { BaseAddress = cluster.Gateway(1), Timeout = TimeSpan.FromSeconds(30) };
        var registration = new { username = Chat.NewUsername(), password = "correct horse battery" };

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
    }
}
