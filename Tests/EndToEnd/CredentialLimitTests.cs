using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Messenger.Client;
using Messenger.Tests.Support;

namespace Messenger.Tests.EndToEnd;

/// <summary>
/// Registration and login are rate limited per client address and per username: past the limit a request
/// is refused with 429 rate_limited and Retry-After, changes nothing, and other addresses and usernames go
/// on. Each test runs a gateway of its own with limits so small (and refills so slow) that the outcome
/// does not depend on timing.
/// </summary>
public sealed class CredentialLimitTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task PerAddress_ABurstBeyondTheLimit_IsRefused_OtherAddressesAreNot_AndNothingIsCreated()
    {
        // Two attempts at once, then one more every 30 s.
        await using var server = await ServerProcess.StartAsync(null, "--Auth:AttemptsPerAddressPerMinute=2");
        using var first = Client(server.BaseAddress, IPAddress.Loopback);
        var alice = Chat.NewUsername();
        await AssertStatusAsync(await RegisterAsync(first, alice), HttpStatusCode.Created);
        await AssertStatusAsync(await LoginAsync(first, alice, Password), HttpStatusCode.OK);

        var late = Chat.NewUsername();
        await AssertRateLimitedAsync(await RegisterAsync(first, late), TimeSpan.FromSeconds(30));
        await AssertRateLimitedAsync(await LoginAsync(first, alice, Password), TimeSpan.FromSeconds(30));

        // Another address has its own allowance, and the refused registration created nothing.
        using var second = Client(server.BaseAddress, IPAddress.Parse("127.0.0.2"));
        var token = await TokenAsync(await LoginAsync(second, alice, Password));
        second.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await BadInputTests.AssertProblemAsync(await second.GetAsync($"v1/users/by-username/{late}"), 404, "user_not_found");
        await AssertStatusAsync(await RegisterAsync(second, late), HttpStatusCode.Created);
    }

    [Fact]
    public async Task PerUsername_GuessingIsCutOffForThatUsername_OthersGoOn()
    {
        // Three attempts per username, then one more every 20 minutes.
        await using var server = await ServerProcess.StartAsync(null, "--Auth:AttemptsPerUsernamePerHour=3");
        using var http = Client(server.BaseAddress, IPAddress.Loopback);
        var alice = Chat.NewUsername();
        var bob = Chat.NewUsername();
        await AssertStatusAsync(await RegisterAsync(http, alice), HttpStatusCode.Created);
        await AssertStatusAsync(await RegisterAsync(http, bob), HttpStatusCode.Created);
        await BadInputTests.AssertProblemAsync(await LoginAsync(http, alice, "guess number one"), 401, "invalid_credentials");
        await BadInputTests.AssertProblemAsync(await LoginAsync(http, alice.ToUpperInvariant(), "guess number two"), 401, "invalid_credentials");

        // The username's attempts are spent, whatever the case it is written in: even the right password waits.
        await AssertRateLimitedAsync(await LoginAsync(http, $"  {alice.ToUpperInvariant()} ", Password), TimeSpan.FromMinutes(20));
        await AssertRateLimitedAsync(await RegisterAsync(http, alice), TimeSpan.FromMinutes(20));
        // The .NET SDK hands the wait to its caller.
        using var sdk = new MessengerHttpClient(server.BaseAddress);
        var refused = await Assert.ThrowsAsync<MessengerClientException>(() => sdk.LoginAsync(alice, Password));
        Assert.Equal(("rate_limited", 429), (refused.Code, refused.HttpStatus));
        Assert.True(refused.RetryAfter is { } wait && wait >= TimeSpan.FromSeconds(1) && wait <= TimeSpan.FromMinutes(20), $"RetryAfter {refused.RetryAfter}");
        // Another username is not affected, from the same address.
        await AssertStatusAsync(await LoginAsync(http, bob, Password), HttpStatusCode.OK);
        // Input refused for its shape costs no attempt (it is checked first).
        await BadInputTests.AssertProblemAsync(await http.PostAsJsonAsync("v1/sessions", new { username = bob }), 400, "invalid_request");
        await AssertStatusAsync(await LoginAsync(http, bob, Password), HttpStatusCode.OK);
    }

    /// <summary>An HTTP client whose connections leave from <paramref name="local"/> (any 127.x address is this machine's).</summary>
    private static HttpClient Client(Uri server, IPAddress local) =>
        new(ShapedSockets.Handler(socket => socket.Bind(new IPEndPoint(local, 0)))) { BaseAddress = server };

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient http, string username) =>
        http.PostAsJsonAsync("v1/accounts", new { username, password = Password });

    private static Task<HttpResponseMessage> LoginAsync(HttpClient http, string username, string password) =>
        http.PostAsJsonAsync("v1/sessions", new { username, password, deviceId = "d1" });

    private static async Task<string> TokenAsync(HttpResponseMessage response)
    {
        await AssertStatusAsync(response, HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.True(response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>429 rate_limited as problem+json, with a Retry-After of whole seconds, at most <paramref name="refill"/>.</summary>
    private static async Task AssertRateLimitedAsync(HttpResponseMessage response, TimeSpan refill)
    {
        var retryAfter = response.Headers.RetryAfter?.Delta;
        await BadInputTests.AssertProblemAsync(response, 429, "rate_limited");
        Assert.True(retryAfter is { } after && after >= TimeSpan.FromSeconds(1) && after <= refill + TimeSpan.FromSeconds(1),
            $"Retry-After is {response.Headers.RetryAfter}, expected 1 s to {refill}");
    }
}
