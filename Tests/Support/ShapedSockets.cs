using System.Net.Sockets;

namespace Messenger.Tests.Support;

/// <summary>
/// An HTTP handler whose connections use sockets set up by the test before they connect (bound to a chosen
/// local address, a small receive buffer...), for clients that must look like some other machine or device.
/// </summary>
public static class ShapedSockets
{
    /// <param name="shape">Applied to each new IPv4 socket before it connects.</param>
    public static SocketsHttpHandler Handler(Action<Socket> shape) => new()
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                shape(socket);
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
