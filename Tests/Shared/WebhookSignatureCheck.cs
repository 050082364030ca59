using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Messenger.Testing;

/// <summary>
/// An operator's check of a webhook request's <c>Messenger-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>
/// (docs/PROTOCOL.md 4.18): the hex is the lowercase HMAC-SHA256, keyed with the UTF-8 secret, of the UTF-8
/// text <c>"&lt;t&gt;."</c> followed by the raw body bytes, and <c>t</c> is within <see cref="Tolerance"/> of now.
/// Written from the protocol, not from the server's signer, so it checks the server. Compiled into Tests and
/// linked into Bench.
/// </summary>
public static class WebhookSignatureCheck
{
    /// <summary>How far a signature's <c>t</c> may be from now, either way, before it is refused as a replay.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Why <paramref name="headers"/> do not sign <paramref name="body"/>: null when they do.</summary>
    public static string? Problem(StringValues headers, byte[] body, byte[] secret, DateTimeOffset now)
    {
        if (headers.Count == 0) return "no Messenger-Signature header";
        if (headers.Count > 1) return $"Messenger-Signature header given {headers.Count} times";
        string? timestamp = null, signature = null;
        foreach (var item in (headers[0] ?? "").Split(','))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? item : item[..equals];
            var value = equals < 0 ? null : item[(equals + 1)..];
            switch (key)
            {
                case "t" when timestamp is null && value is not null: timestamp = value; break;
                case "v1" when signature is null && value is not null: signature = value; break;
                default: return $"Messenger-Signature item '{item}' is not one t= and one v1=";
            }
        }
        if (timestamp is null || signature is null) return $"Messenger-Signature '{headers[0]}' lacks t= or v1=";
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return $"Messenger-Signature t '{timestamp}' is not unix seconds";
        }
        var age = TimeSpan.FromSeconds(Math.Abs((double)now.ToUnixTimeSeconds() - seconds));
        if (age > Tolerance) return $"Messenger-Signature t={timestamp} is {age.TotalSeconds:0} s from now, more than {Tolerance.TotalSeconds:0} s";
        if (signature.Length != 64 || !signature.All(char.IsAsciiHexDigitLower)) return "Messenger-Signature v1 is not 64 lowercase hex digits";

        byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(secret, signed)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature))
            ? null
            : "Messenger-Signature v1 does not match the body signed with the shared secret";
    }
}
