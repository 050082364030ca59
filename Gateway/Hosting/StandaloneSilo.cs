using System.Net;
using System.Net.Sockets;
using Messenger.Grains.Hosting;
using Orleans.Configuration;

namespace Messenger.Gateway.Hosting;

/// <summary>
/// Standalone mode: the gateway hosts a single in-process silo with localhost clustering. The silo's
/// own port is picked free at start so several instances can share a machine; no client gateway port is opened.
/// </summary>
public static class StandaloneSilo
{
    public static WebApplicationBuilder AddStandaloneSilo(this WebApplicationBuilder builder)
    {
        var siloPort = builder.Configuration.GetValue("Orleans:SiloPort", 0);
        if (siloPort == 0) siloPort = FreeTcpPort();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: 0, serviceId: "messenger", clusterId: "standalone");
            silo.Configure<EndpointOptions>(o => o.GatewayPort = 0);
            silo.AddMessenger(builder.Configuration);
        });
        return builder;
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
