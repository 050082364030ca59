using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Messenger.Grains;
using Messenger.Grains.Storage.Sqlite;

namespace Messenger.Tests.Support;

/// <summary>
/// Many accounts without paying a password hash and a login each: written straight into a data
/// directory before the server starts on it, with device tokens signed by the signing key the server
/// will load from there (an HS256 JWT carrying what the server's own tokens carry).
/// </summary>
public static class SeededAccounts
{
    private const string Issuer = "messenger-orleans";

    /// <summary>Creates <paramref name="count"/> users in <paramref name="dataDirectory"/>; returns each with a token.</summary>
    public static async Task<List<(UserProfile User, string Token)>> CreateAsync(string dataDirectory, int count)
    {
        var key = RandomNumberGenerator.GetBytes(64);
        await File.WriteAllTextAsync(Path.Combine(dataDirectory, "signing.key"), Convert.ToBase64String(key));
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var users = new List<(UserProfile, string)>(count);
        await using var storage = SqliteStorage.Open(Path.Combine(dataDirectory, SqliteStorage.FileName));
        foreach (var schema in storage.Schemas) await schema.MigrateAsync();
        var creates = new List<Task<bool>>(count);
        for (var i = 0; i < count; i++)
        {
            var profile = new UserProfile(UserIds.New(), $"seeded{i:D6}", now);
            creates.Add(storage.Accounts.CreateAccountAsync(new AccountCredentials(profile, "not-a-usable-hash")));
            users.Add((profile, Token(key, profile, $"device-{i}", now)));
        }
        Assert.All(await Task.WhenAll(creates), Assert.True);
        return users;
    }

    private static string Token(byte[] key, UserProfile user, string deviceId, DateTimeOffset now)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Issuer,
            ["sub"] = user.UserId,
            ["name"] = user.Username,
            ["did"] = deviceId,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
        }));
        var signature = Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
