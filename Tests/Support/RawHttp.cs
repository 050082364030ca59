using System.Net.Sockets;
using System.Text;

namespace Messenger.Tests.Support;

/// <summary>HTTP/1.1 written by hand over a bare TCP connection, for requests no HTTP library sends as they are.</summary>
public static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="request"/> (a whole request, head and body) unchanged and reads the response until
    /// the server closes the connection (so ask with <c>Connection: close</c> unless the server closes anyway).
    /// </summary>
    public static async Task<(int Status, string Head, string Body)> SendAsync(Uri server, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var received = new MemoryStream();
        await stream.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(10));
        var response = Encoding.UTF8.GetString(received.ToArray());
        var end = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, $"no response head: {response}");
        var status = int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        return (status, response[..end], response[(end + 4)..]);
    }
}
