using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Messenger.Gateway.Auth;

/// <summary>Issues and describes device tokens: HMAC-SHA256 JWTs with the user id, username and device id.</summary>
public sealed class TokenService
{
    public const string DeviceClaim = "did";
    public const string UsernameClaim = "name";

    /// <summary>The device's login generation: the token is good while the user's grants allow it (see <c>DeviceGrants</c>).</summary>
    public const string GenerationClaim = "gen";

    private readonly AuthOptions _options;
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>
    /// Signs with <see cref="AuthOptions.SigningKey"/> when set, else with the key file under
    /// <paramref name="dataDirectory"/>, which is created on first start only when
    /// <paramref name="mayCreateKeyFile"/> (standalone): gateways of a cluster must share one key, so
    /// one of them making up its own would refuse every token the others issued.
    /// </summary>
    public TokenService(AuthOptions options, string dataDirectory, bool mayCreateKeyFile)
    {
        _options = options;
        var key = options.SigningKeyBytes();
        if (key is null)
        {
            var path = Path.Combine(dataDirectory, options.SigningKeyFile);
            if (!mayCreateKeyFile && !File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"{AuthOptions.SectionName}:{nameof(AuthOptions.SigningKey)} must be set (or {AuthOptions.SectionName}:{nameof(AuthOptions.SigningKeyFile)} name an existing file) "
                    + "for a gateway in client mode: every gateway of the cluster must sign tokens with the same key.");
            }
            key = LoadOrCreateKey(path);
        }
        SigningKey = new SymmetricSecurityKey(key);
    }

    public SymmetricSecurityKey SigningKey { get; }

    public TokenValidationParameters ValidationParameters => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Issuer,
        IssuerSigningKey = SigningKey,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.Zero,
        NameClaimType = UsernameClaim,
    };

    public (string Token, DateTimeOffset ExpiresAt) Issue(string userId, string username, string deviceId, long generation)
    {
        // JWT times are whole seconds: round here so expiresAt is exactly when the token stops working.
        var now = DateTime.UnixEpoch.AddSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var expires = now + TimeSpan.FromSeconds(Math.Floor(_options.TokenLifetime.TotalSeconds));
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Issuer,
            IssuedAt = now,
            NotBefore = now,
            Expires = expires,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId,
                [UsernameClaim] = username,
                [DeviceClaim] = deviceId,
                [GenerationClaim] = generation,
            },
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256),
        });
        return (token, new DateTimeOffset(expires));
    }

    /// <summary>
    /// Validates a token outside the authentication middleware. The WebSocket handshake does this, so
    /// that nothing of the token (claims, the parsed JWT) stays referenced for the life of the socket.
    /// </summary>
    public async Task<TokenCheck> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token)) return default;
        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        if (!result.IsValid) return new TokenCheck(null, null, 0, Expired: result.Exception is SecurityTokenExpiredException);
        return result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var sub) && sub is string userId
            && result.Claims.TryGetValue(DeviceClaim, out var did) && did is string deviceId
            ? new TokenCheck(userId, deviceId, ParseGeneration(result.Claims.TryGetValue(GenerationClaim, out var gen) ? gen?.ToString() : null), Expired: false)
            : default;
    }

    /// <summary>A token's generation; 0 for tokens issued before devices were recorded (they carry none).</summary>
    public static long ParseGeneration(string? claim) =>
        long.TryParse(claim, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var generation) ? generation : 0;

    private static byte[] LoadOrCreateKey(string path)
    {
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var key = RandomNumberGenerator.GetBytes(64);
        var temp = path + ".tmp";
        File.WriteAllText(temp, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: false);
        return key;
    }
}

/// <summary>Reads the caller's identity from an authenticated principal.</summary>
public static class CallerExtensions
{
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? user.FindFirstValue(ClaimTypes.NameIdentifier)
        ?? throw new InvalidOperationException("authenticated principal without a subject");

    public static string DeviceId(this ClaimsPrincipal user) => user.FindFirstValue(TokenService.DeviceClaim) ?? "unknown";

    public static long Generation(this ClaimsPrincipal user) => TokenService.ParseGeneration(user.FindFirstValue(TokenService.GenerationClaim));

    public static string Username(this ClaimsPrincipal user) => user.FindFirstValue(TokenService.UsernameClaim) ?? "";
}

/// <summary>The outcome of <see cref="TokenService.ValidateAsync"/>: the caller's ids, or why the token was refused.</summary>
public readonly record struct TokenCheck(string? UserId, string? DeviceId, long Generation, bool Expired)
{
    public bool IsValid => UserId is not null && DeviceId is not null;
}
