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
    /// <summary>Whether <paramref name="address"/> is loopback, private, link-local, unique-local, shared (CGNAT), multicast or unspecified.</summary>
    public static bool IsInner(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b6 = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (b6[0] & 0xFE) == 0xFC;
        }
        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xC0) == 64) || b[0] >= 224;
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
