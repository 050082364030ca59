namespace Messenger.Gateway.Auth;

/// <summary>Tokens and passwords. Section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Auth";

    /// <summary>How long a device token is valid.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Issuer and audience written into tokens.</summary>
    public string Issuer { get; set; } = "messenger-orleans";

    /// <summary>
    /// File holding the HMAC-SHA256 signing key (base64). Relative paths are under the data directory.
    /// Created with a random key on first start when missing. Every gateway of a cluster must share it.
    /// </summary>
    public string SigningKeyFile { get; set; } = "signing.key";

    /// <summary>
    /// The HMAC-SHA256 signing key itself (base64, at least 32 bytes), e.g. from a secret shared by every
    /// gateway of a cluster. When set, <see cref="SigningKeyFile"/> is not used.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Shortest accepted password.</summary>
    public int MinPasswordLength { get; set; } = 8;

    /// <summary>Longest accepted password (bounds the hashing work one request can cause).</summary>
    public int MaxPasswordLength { get; set; } = 256;

    // Registration and login check a password: tens of ms of CPU by design (PBKDF2). These bound that work.

    /// <summary>
    /// Registrations and logins one client address may make per minute, in a burst of as many (a token
    /// bucket: one more every minute / this). IPv6 addresses count per /64 network.
    /// </summary>
    public int AttemptsPerAddressPerMinute { get; set; } = 30;

    /// <summary>
    /// Registrations and logins (right or wrong) naming one username per hour, in a burst of as many (a
    /// token bucket: one more every hour / this). Guessing a password from many addresses gets this many
    /// tries; the lockout ends by itself once the attempts stop.
    /// </summary>
    public int AttemptsPerUsernamePerHour { get; set; } = 10;

    /// <summary>Password hashes computed at once; more wait in a short queue (beyond it: <c>rate_limited</c>).</summary>
    public int PasswordHashConcurrency { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>The decoded <see cref="SigningKey"/>, or null when it is not valid base64.</summary>
    public byte[]? SigningKeyBytes()
    {
        try
        {
            return SigningKey is null ? null : Convert.FromBase64String(SigningKey.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    public void Validate()
    {
        if (TokenLifetime < TimeSpan.FromSeconds(1)) throw new InvalidOperationException($"{SectionName}:{nameof(TokenLifetime)} must be at least 00:00:01, is {TokenLifetime}.");
        if (string.IsNullOrWhiteSpace(Issuer)) throw new InvalidOperationException($"{SectionName}:{nameof(Issuer)} must be set.");
        if (string.IsNullOrWhiteSpace(SigningKeyFile)) throw new InvalidOperationException($"{SectionName}:{nameof(SigningKeyFile)} must be set.");
        if (SigningKey is not null && SigningKeyBytes() is not { Length: >= 32 })
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(SigningKey)} must be base64 of at least 32 bytes (e.g. the output of: openssl rand -base64 64).");
        }
        if (MinPasswordLength < 1 || MaxPasswordLength < MinPasswordLength) throw new InvalidOperationException($"{SectionName}:{nameof(MinPasswordLength)} must be at least 1 and not above {nameof(MaxPasswordLength)}.");
        if (AttemptsPerAddressPerMinute is < 1 or > 1_000_000) throw new InvalidOperationException($"{SectionName}:{nameof(AttemptsPerAddressPerMinute)} must be 1..1000000, is {AttemptsPerAddressPerMinute}.");
        if (AttemptsPerUsernamePerHour is < 1 or > 1_000_000) throw new InvalidOperationException($"{SectionName}:{nameof(AttemptsPerUsernamePerHour)} must be 1..1000000, is {AttemptsPerUsernamePerHour}.");
        if (PasswordHashConcurrency is < 1 or > 1024) throw new InvalidOperationException($"{SectionName}:{nameof(PasswordHashConcurrency)} must be 1..1024, is {PasswordHashConcurrency}.");
    }
}
