using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Messenger.Grains;
using Messenger.Gateway.Protocol;
using Microsoft.AspNetCore.RateLimiting;

namespace Messenger.Gateway.Auth;

/// <summary>
/// Registration and login check a password, which costs tens of milliseconds of CPU by design (PBKDF2).
/// Three limits keep a password-guessing loop or a burst of registrations from getting far or from
/// starving message delivery: per client address (ASP.NET Core's rate limiter, before the body is read),
/// per username (<see cref="UsernameAttempts"/>, once the body names one), and how many hashes run at once
/// (<see cref="PasswordHashing"/>). A refusal is <c>429 rate_limited</c> with <c>Retry-After</c>, and
/// changes nothing.
/// </summary>
public static class CredentialLimits
{
    /// <summary>The rate-limiter policy of <c>POST /v1/accounts</c> and <c>POST /v1/sessions</c>.</summary>
    public const string AddressPolicy = "credentials per address";

    public static IServiceCollection AddCredentialLimits(this IServiceCollection services, AuthOptions auth)
    {
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(AddressPolicy, http => RateLimitPartition.GetTokenBucketLimiter(ClientAddress(http),
                _ => Bucket(auth.AttemptsPerAddressPerMinute, TimeSpan.FromMinutes(1))));
            o.OnRejected = (context, _) => new ValueTask(ErrorMapping.WriteProblemAsync(context.HttpContext, ErrorCode.RateLimited,
                "too many registrations and logins from this address; retry later.", retryAfter: RetryAfter(context.Lease)));
        });
        services.AddSingleton(new UsernameAttempts(auth));
        services.AddSingleton(new PasswordHashing(auth));
        return services;
    }

    /// <summary>
    /// A burst of <paramref name="permits"/>, then one more every <paramref name="per"/> / permits. (Inside a
    /// partitioned limiter a bucket refills continuously, on the partitions' shared timer.)
    /// </summary>
    internal static TokenBucketRateLimiterOptions Bucket(int permits, TimeSpan per) => new()
    {
        TokenLimit = permits,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = per / permits,
        QueueLimit = 0,
    };

    /// <summary>When a refused lease's limiter has room again; one second when it does not say.</summary>
    internal static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);

    /// <summary>
    /// The address limits count against: the TCP peer's, which behind a reverse proxy is the proxy's unless
    /// forwarded headers are enabled (ASPNETCORE_FORWARDEDHEADERS_ENABLED, docs/DEPLOY.md). An IPv6 client
    /// holds a whole /64 network, so it counts as its /64.
    /// </summary>
    internal static string ClientAddress(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null) return "";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}

/// <summary>
/// Registrations and logins per username, right or wrong: a token bucket per (normalised) username, charged
/// before the password is checked. A guesser spread over many addresses gets only this many tries; the real
/// user is refused too while the guessing goes on, but never longer than the bucket takes to refill after it stops.
/// </summary>
public sealed class UsernameAttempts(AuthOptions auth) : IDisposable
{
    // No username is longer; longer ones (which no account has) share one bucket rather than each holding its own.
    private const int LongestUsername = 32;

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(username =>
        RateLimitPartition.GetTokenBucketLimiter(username, _ => CredentialLimits.Bucket(auth.AttemptsPerUsernamePerHour, TimeSpan.FromHours(1))));

    /// <summary>Counts an attempt naming <paramref name="username"/>; <c>rate_limited</c> when it has none left.</summary>
    public void Charge(string username)
    {
        var key = AccountDirectoryGrain.CanonicalUsername(username);
        using var lease = _limiter.AttemptAcquire(key.Length > LongestUsername ? "" : key);
        if (!lease.IsAcquired)
        {
            throw new MessengerException(ErrorCode.RateLimited, "too many registrations and logins for this username; retry later.",
                CredentialLimits.RetryAfter(lease));
        }
    }

    public void Dispose() => _limiter.Dispose();
}
