using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Messenger.Tests.Support;

/// <summary>
/// Device tokens made by the test with a gateway's own signing key: genuine to the gateway, for users the
/// gateway never issued one to (one that does not exist, e.g. a deleted account). The same HS256 JWT
/// shape as the gateway's (docs/PROTOCOL.md section 2).
/// </summary>
public static class TestTokens
{
    /// <summary>The signing key a standalone gateway made in its data directory on first start.</summary>
    public static byte[] SigningKeyOf(ServerProcess server) =>
        Convert.FromBase64String(File.ReadAllText(Path.Combine(server.DataDirectory, "signing.key")).Trim());

    public static string Sign(byte[] key, string userId, string deviceId, string username = "nobody")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["aud"] = "messenger-orleans", ["iss"] = "messenger-orleans", ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600,
            ["sub"] = userId, ["name"] = username, ["did"] = deviceId,
        }));
        var signature = Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    /// <summary>A well-formed user id that no account has.</summary>
    public static string UnknownUserId() => "u" + Guid.CreateVersion7().ToString("N");

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
