using System.Threading.RateLimiting;
using Messenger.Grains;
using Microsoft.AspNetCore.Identity;

namespace Messenger.Gateway.Auth;

/// <summary>
/// Hashes and checks passwords (ASP.NET Core Identity's PBKDF2), at most
/// <see cref="AuthOptions.PasswordHashConcurrency"/> at once. Each hash holds a thread-pool thread for tens
/// of milliseconds, so without a bound a burst of logins would take every core from message delivery.
/// A few more wait their turn; past that queue the request is refused (<c>rate_limited</c>, retry in a second).
/// </summary>
public sealed class PasswordHashing : IDisposable
{
    /// <summary>Requests that may wait per hash running (at ~50 ms a hash, about 5 s of work).</summary>
    public const int QueuePerHash = 100;

    // The hasher only needs a type argument; accounts are not Identity users.
    private static readonly PasswordHasher<string> Hasher = new();

    private readonly ConcurrencyLimiter _limiter;
    private readonly Lazy<string> _unknownUserHash = new(() => Hasher.HashPassword("", Guid.NewGuid().ToString()));

    public PasswordHashing(AuthOptions auth)
    {
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = auth.PasswordHashConcurrency,
            QueueLimit = auth.PasswordHashConcurrency * QueuePerHash,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>
    /// Hashes <paramref name="password"/> in its turn. <paramref name="charge"/> runs once the turn is had and
    /// before the hash (it may refuse): a request refused for want of a turn has spent nothing.
    /// </summary>
    public async Task<string> HashAsync(string password, Action charge, CancellationToken cancellationToken)
    {
        using var turn = await TurnAsync(cancellationToken);
        charge();
        return Hasher.HashPassword("", password);
    }

    /// <summary>
    /// Whether <paramref name="password"/> matches <paramref name="hash"/>, checked in its turn after
    /// <paramref name="charge"/> (as for <see cref="HashAsync"/>). Without a hash (no such user) it is
    /// checked against a real one all the same, so timing does not reveal which usernames exist.
    /// </summary>
    public async Task<bool> VerifyAsync(string? hash, string password, Action charge, CancellationToken cancellationToken)
    {
        using var turn = await TurnAsync(cancellationToken);
        charge();
        var result = Hasher.VerifyHashedPassword("", hash ?? _unknownUserHash.Value, password);
        return hash is not null && result != PasswordVerificationResult.Failed;
    }

    private async Task<RateLimitLease> TurnAsync(CancellationToken cancellationToken)
    {
        var lease = await _limiter.AcquireAsync(1, cancellationToken);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        throw new MessengerException(ErrorCode.RateLimited, "the server is checking too many passwords at once; retry shortly.", TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _limiter.Dispose();
}
