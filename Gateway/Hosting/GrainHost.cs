using System.Net;
using System.Net.Sockets;
using Messenger.Grains.Hosting;
using Orleans.Configuration;

namespace Messenger.Gateway.Hosting;

/// <summary>
/// Where the gateway's grains run. Standalone (the default): a single in-process silo with localhost
/// clustering, its own port picked free at start so several instances can share a machine, no client
/// gateway port opened. Client mode (<c>Cluster:Mode=client</c>): an Orleans client of the cluster
/// whose membership table <c>Cluster:ConnectionString</c> names; no silo and no data of its own.
/// </summary>
public static class GrainHost
{
    public static WebApplicationBuilder AddGrainHost(this WebApplicationBuilder builder)
    {
        var cluster = MessengerClusterOptions.From(builder.Configuration);
        cluster.ValidateForGateway();
        builder.Services.AddSingleton(sp => new ClusterConnection(sp.GetRequiredService<IHostApplicationLifetime>(), inProcess: !cluster.IsClient));
        if (!cluster.IsClient) return builder.AddStandaloneSilo();
        builder.Services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<ClusterConnection>());
        // Serve (and answer "unavailable") while the client is still connecting, instead of not listening.
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        builder.UseOrleansClient(client => client.UseMessengerCluster(cluster));
        return builder;
    }

    /// <summary>Grain locations the standalone silo caches (Orleans' default, a million, preallocates ~18 MiB).</summary>
    private const int StandaloneDirectoryCacheSize = 100_000;

    private static WebApplicationBuilder AddStandaloneSilo(this WebApplicationBuilder builder)
    {
        var siloPort = builder.Configuration.GetValue("Orleans:SiloPort", 0);
        if (siloPort == 0) siloPort = FreeTcpPort();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: 0, serviceId: "messenger", clusterId: "standalone");
            silo.Configure<EndpointOptions>(o => o.GatewayPort = 0);
            // Where each grain lives is cached by the silo, in a table Orleans sizes for a million grains up front (two
            // arrays of ~9 MiB whose pages become resident as grains arrive, at places their hashes pick). One silo
            // holds every grain here: room for 100,000 is plenty, and a grain that falls out is found again in the
            // local directory.
            silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = StandaloneDirectoryCacheSize);
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
