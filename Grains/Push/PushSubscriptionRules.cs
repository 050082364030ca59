using System.Buffers.Text;
using System.Security.Cryptography;

namespace Messenger.Grains.Push;

/// <summary>
/// What a push subscription must be before it is stored: a Web Push endpoint over https (or a host the
/// operator allowed plain http for) with a P-256 public key on the curve and a 16-byte auth secret, or a
/// configured webhook target with a token. A refusal says which field is wrong and changes nothing.
/// </summary>
public static class PushSubscriptionRules
{
    /// <summary>Longest endpoint, in characters (push services use a few hundred).</summary>
    public const int MaxEndpointLength = 2048;

    /// <summary>Longest webhook token, in characters (an APNs token is 64, an FCM one about 160).</summary>
    public const int MaxTokenLength = 4096;

    /// <summary>Checks <paramref name="subscription"/>; returns it with only the fields of its kind.</summary>
    public static PushSubscription Validate(PushSubscription subscription, PushOptions options) => subscription.Kind switch
    {
        PushKind.WebPush => ValidateWebPush(subscription, options),
        PushKind.Webhook => ValidateWebhook(subscription, options),
        _ => throw Invalid("kind must be webPush or webhook."),
    };

    private static PushSubscription ValidateWebPush(PushSubscription s, PushOptions options)
    {
        if (string.IsNullOrEmpty(s.Endpoint)) throw Invalid("webPush.endpoint is required.");
        if (s.Endpoint.Length > MaxEndpointLength) throw Invalid($"webPush.endpoint is longer than {MaxEndpointLength} characters.");
        if (!Uri.TryCreate(s.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http") || endpoint.UserInfo.Length > 0)
        {
            throw Invalid("webPush.endpoint must be an absolute https URL.");
        }
        var allowed = options.InsecureHosts.Contains(endpoint.Host, StringComparer.OrdinalIgnoreCase);
        if (endpoint.Scheme == "http" && !allowed) throw Invalid("webPush.endpoint must use https.");
        if (!allowed && (endpoint.IsLoopback || (System.Net.IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var ip) && PushAddresses.IsInner(ip))))
        {
            throw Invalid("webPush.endpoint must be a push service on the internet, not an address of the server's own network.");
        }
        var key = Decode(s.P256dh, "webPush.keys.p256dh", 65);
        if (key[0] != 0x04 || !IsOnCurve(key)) throw Invalid("webPush.keys.p256dh is not a P-256 public key (65 bytes, uncompressed).");
        Decode(s.Auth, "webPush.keys.auth", 16);
        return new PushSubscription(PushKind.WebPush, Endpoint: s.Endpoint, P256dh: s.P256dh, Auth: s.Auth);
    }

    private static PushSubscription ValidateWebhook(PushSubscription s, PushOptions options)
    {
        if (string.IsNullOrEmpty(s.Target)) throw Invalid("webhook.target is required.");
        if (!options.Webhooks.ContainsKey(s.Target)) throw Invalid($"webhook.target '{s.Target}' is not a webhook this server has configured.");
        if (string.IsNullOrEmpty(s.Token)) throw Invalid("webhook.token is required.");
        if (s.Token.Length > MaxTokenLength) throw Invalid($"webhook.token is longer than {MaxTokenLength} characters.");
        return new PushSubscription(PushKind.Webhook, Target: s.Target, Token: s.Token);
    }

    private static byte[] Decode(string? value, string field, int length)
    {
        if (string.IsNullOrEmpty(value)) throw Invalid($"{field} is required.");
        if (value.Length > 2 * length) throw Invalid($"{field} must be {length} bytes, base64url.");
        var bytes = new byte[Base64Url.GetMaxDecodedLength(value.Length)];
        int written;
        try
        {
            if (!Base64Url.TryDecodeFromChars(value, bytes, out written)) written = -1;
        }
        catch (FormatException)
        {
            written = -1;
        }
        if (written != length) throw Invalid($"{field} must be {length} bytes, base64url.");
        return bytes[..written];
    }

    private static bool IsOnCurve(byte[] point)
    {
        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33], Y = point[33..65] },
            });
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static MessengerException Invalid(string message) => new(ErrorCode.InvalidSubscription, message);
}
