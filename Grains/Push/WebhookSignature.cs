using System.Security.Cryptography;
using System.Text;

namespace Messenger.Grains.Push;

/// <summary>
/// The <c>Messenger-Signature</c> header of a webhook request: <c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>, where v1 is
/// HMAC-SHA256 keyed with the target's secret over <c>"&lt;t&gt;."</c> followed by the raw body.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header's name.</summary>
    public const string Header = "Messenger-Signature";

    /// <summary>The header carrying the notification's id.</summary>
    public const string IdHeader = "Messenger-Notification-Id";

    /// <summary>The header's value for <paramref name="body"/> signed at <paramref name="time"/>.</summary>
    public static string Sign(string secret, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var t = time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var prefix = Encoding.UTF8.GetBytes(t + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
