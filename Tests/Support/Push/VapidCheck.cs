using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Messenger.Tests.Support.Push;

/// <summary>Who a valid VAPID header says sent a push: its key as sent (<c>k</c>), its contact and when its token ends.</summary>
internal sealed record VapidIdentity(string PublicKey, byte[] PublicKeyBytes, string Subject, DateTimeOffset Expiry);

/// <summary>
/// Checks an <c>Authorization: vapid t=..., k=...</c> header as a push service does (RFC 8292): the token is
/// an ES256 JWT signed by <c>k</c>, for this push service's origin, not expired, at most 24 hours ahead,
/// with a contact. Every failure is a 401 <see cref="Rejection"/> naming what was wrong.
/// </summary>
internal static class VapidCheck
{
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    public static VapidIdentity Verify(string? authorization, IReadOnlyCollection<string> audiences, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(authorization)) throw Unauthorized("no Authorization header");
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? authorization : authorization[..space];
        if (!scheme.Equals("vapid", StringComparison.OrdinalIgnoreCase))
        {
            throw Unauthorized($"Authorization scheme is '{scheme}', not 'vapid'");
        }
        if (space < 0) throw Unauthorized("vapid Authorization has no parameters");
        var parameters = ParseParameters(authorization[(space + 1)..]);
        if (!parameters.TryGetValue("t", out var token)) throw Unauthorized("vapid Authorization has no t= (token)");
        if (!parameters.TryGetValue("k", out var key)) throw Unauthorized("vapid Authorization has no k= (public key)");

        var publicKey = DecodeBase64Url(key, "k");
        using var verifier = ImportP256(publicKey);

        var segments = token.Split('.');
        if (segments.Length != 3) throw Unauthorized($"token has {segments.Length} segments, not 3");
        var headerBytes = DecodeBase64Url(segments[0], "JWT header");
        var claimsBytes = DecodeBase64Url(segments[1], "JWT claims");
        var signature = DecodeBase64Url(segments[2], "JWT signature");
        using (var header = ParseJson(headerBytes, "JWT header"))
        {
            if (Text(header.RootElement, "alg") != "ES256") throw Unauthorized($"JWT alg is {Raw(header.RootElement, "alg")}, not ES256");
            if (header.RootElement.TryGetProperty("typ", out var typ)
                && !(typ.ValueKind == JsonValueKind.String && string.Equals(typ.GetString(), "JWT", StringComparison.OrdinalIgnoreCase)))
            {
                throw Unauthorized($"JWT typ is {typ.GetRawText()}, not JWT");
            }
        }
        // JOSE signs with the raw r || s form, never DER.
        if (signature.Length != 64) throw Unauthorized($"JWT signature is {signature.Length} bytes, not the 64 of ES256");
        var signedPart = Encoding.ASCII.GetBytes(segments[0] + "." + segments[1]);
        if (!verifier.VerifyData(signedPart, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw Unauthorized("JWT signature does not verify with k");
        }

        using var claims = ParseJson(claimsBytes, "JWT claims");
        var root = claims.RootElement;
        var audience = Text(root, "aud");
        if (audience is null || !audiences.Contains(audience, StringComparer.Ordinal))
        {
            throw Unauthorized($"JWT aud is {Raw(root, "aud")}, not {string.Join(" or ", audiences.Select(a => $"\"{a}\""))}");
        }
        if (!root.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number || !exp.TryGetInt64(out var expSeconds))
        {
            throw Unauthorized($"JWT exp is {Raw(root, "exp")}, not a number of seconds");
        }
        var expiry = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(expSeconds, 0, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        if (expiry <= now) throw Unauthorized($"JWT expired at {expiry:O} (now {now:O})");
        if (expiry > now + MaxLifetime) throw Unauthorized($"JWT exp {expiry:O} is more than 24 h after now ({now:O})");
        var subject = Text(root, "sub");
        if (subject is null) throw Unauthorized($"JWT sub is {Raw(root, "sub")}, not a contact");
        if (!subject.StartsWith("mailto:", StringComparison.Ordinal) && !subject.StartsWith("https:", StringComparison.Ordinal))
        {
            throw Unauthorized($"JWT sub '{subject}' is neither a mailto: nor an https: URI");
        }
        return new VapidIdentity(key, publicKey, subject, expiry);
    }

    /// <summary>Base64url as JOSE writes it (RFC 7515): no padding, nothing outside the alphabet.</summary>
    public static byte[] DecodeBase64Url(string text, string what)
    {
        if (text.Length == 0 || text.Contains('=', StringComparison.Ordinal)) throw Unauthorized($"{what} is not unpadded base64url");
        try
        {
            return Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            throw Unauthorized($"{what} is not base64url");
        }
    }

    /// <summary>A P-256 public key from its 65-byte uncompressed point; a point off the curve is refused.</summary>
    private static ECDsa ImportP256(byte[] point)
    {
        if (point.Length != 65 || point[0] != 0x04) throw Unauthorized($"k is {point.Length} bytes, not an uncompressed P-256 point");
        try
        {
            return ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33], Y = point[33..] },
            });
        }
        catch (CryptographicException e)
        {
            throw Unauthorized($"k is not a P-256 public key ({e.Message})");
        }
    }

    /// <summary>The comma-separated <c>name=value</c> pairs after the scheme; values may be quoted.</summary>
    private static Dictionary<string, string> ParseParameters(string text)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw Unauthorized($"vapid Authorization parameter '{part}' is not name=value");
            var value = part[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            if (!parameters.TryAdd(part[..equals].Trim(), value)) throw Unauthorized($"vapid Authorization repeats {part[..equals]}");
        }
        return parameters;
    }

    private static JsonDocument ParseJson(byte[] utf8, string what)
    {
        try
        {
            var document = JsonDocument.Parse(utf8);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
            document.Dispose();
        }
        catch (JsonException)
        {
            // Falls through to the same answer as a non-object.
        }
        throw Unauthorized($"{what} is not a JSON object");
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Raw(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetRawText() : "missing";

    private static Rejection Unauthorized(string reason) => new(HttpStatusCode.Unauthorized, reason);
}
