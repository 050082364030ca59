using System.Net;
using System.Net.Sockets;

namespace Messenger.Grains.Push;

/// <summary>
/// Which addresses the push sender may connect to. Users choose Web Push endpoints, so without a check
/// a user could make the server POST into its own network (SSRF): an endpoint may only reach public
/// addresses, unless its host is one the operator allowed (<see cref="PushOptions.InsecureHosts"/>, or a
/// configured webhook's). Checked when a subscription is registered (an address written in the URL) and
/// again on every connection (a name that resolves to an inner address, now or later).
/// </summary>
public static class PushAddresses
{
    private static readonly byte[] Nat64 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>Whether <paramref name="address"/> is loopback, private, link-local, unique-local, shared (CGNAT), multicast or unspecified.</summary>
    public static bool IsInner(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b6 = address.GetAddressBytes();
            // Unique-local fc00::/7; addresses that carry an IPv4 one (NAT64 64:ff9b::/96, 6to4 2002::/16,
            // IPv4-compatible ::/96) are judged by it.
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (b6[0] & 0xFE) == 0xFC) return true;
            if (b6[0] == 0x20 && b6[1] == 0x02) return IsInner(new IPAddress(b6.AsSpan(2, 4)));
            var prefix96 = b6.AsSpan(0, 12);
            if (prefix96.SequenceEqual(Nat64) || prefix96.IndexOfAnyExcept((byte)0) < 0) return IsInner(new IPAddress(b6.AsSpan(12, 4)));
            return false;
        }
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xC0) == 64) || (b[0] == 198 && (b[1] & 0xFE) == 18)
            || (b[0] == 192 && b[1] == 0 && b[2] == 0) || b[0] >= 224;
    }

    /// <summary>A connection the push sender refused to open (an inner address of a host nobody allowed).</summary>
    public sealed class RefusedException(string message) : IOException(message);

    /// <summary>
    /// The sender's connect step: resolves the host and connects to its first public address (any address
    /// for <paramref name="allowedHosts"/>).
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, Func<string, bool> allowedHosts, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var allowed = allowedHosts(host);
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        Exception? last = null;
        foreach (var address in addresses)
        {
            if (!allowed && IsInner(address)) continue;
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex)
            {
                socket.Dispose();
                last = ex;
            }
        }
        throw last ?? new RefusedException($"{host} has no public address (push endpoints may not reach the server's own network)");
    }
}
