using System.Net;
using Messenger.Grains.Storage;
using Messenger.Grains.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Messenger.Grains.Hosting;

/// <summary>
/// Cluster membership on PostgreSQL through Orleans' ADO.NET clustering provider, for silos and for
/// gateways in client mode, and the migrations that create its tables.
/// </summary>
public static class ClusterHosting
{
    /// <summary>The ADO.NET invariant of Npgsql, as the Orleans providers name it.</summary>
    public const string Invariant = AdoNetTables.Npgsql;

    private static readonly MigrationScripts Scripts = MigrationScripts.For(typeof(ClusterHosting).Assembly, "Messenger.Grains.Hosting.Cluster");

    // Any constant other than the storage's: the membership tables may share a database with storage.
    private const long MigrationLock = 0x6D65737367727363; // "messgrsc"

    /// <summary>Joins a silo to the cluster named by <paramref name="options"/> (already validated).</summary>
    public static ISiloBuilder UseMessengerCluster(this ISiloBuilder silo, MessengerClusterOptions options)
    {
        silo.Configure<ClusterOptions>(o => Identify(o, options));
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = MembershipConnectionString(options);
        });
        silo.Configure<EndpointOptions>(o =>
        {
            if (options.AdvertisedAddress is not null) o.AdvertisedIPAddress = IPAddress.Parse(options.AdvertisedAddress);
            o.SiloPort = options.SiloPort;
            o.GatewayPort = options.GatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, options.SiloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, options.GatewayPort);
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = options.ProbeTimeout;
            o.NumMissedProbesLimit = options.MissedProbesLimit;
        });
        // A call between grains whose message was lost (its silo died, or dropped it while shutting down)
        // fails after this rather than Orleans' 30 s, which would hold the caller (a send, a deactivation,
        // the shutdown itself) that long.
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
        return silo;
    }

    /// <summary>
    /// Makes an Orleans client of the cluster named by <paramref name="options"/> (already validated). It
    /// keeps trying to connect, with a log line per failed attempt, until the cluster answers.
    /// </summary>
    public static IClientBuilder UseMessengerCluster(this IClientBuilder client, MessengerClusterOptions options)
    {
        client.Configure<ClusterOptions>(o => Identify(o, options));
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = MembershipConnectionString(options);
        });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
        // A silo that restarts comes back under a new generation, which the client learns only from the
        // membership table: read it every few seconds, not every minute, or a rolling restart of every silo
        // can leave a gateway knowing none that is alive.
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = GatewayListRefreshPeriod);
        client.UseConnectionRetryFilter(RetryConnectingAsync);
        return client;
    }

    /// <summary>How often a client-mode gateway reads the list of silos it may connect to.</summary>
    public static readonly TimeSpan GatewayListRefreshPeriod = TimeSpan.FromSeconds(5);

    private static void Identify(ClusterOptions orleans, MessengerClusterOptions options)
    {
        orleans.ClusterId = options.ClusterId;
        orleans.ServiceId = options.ServiceId;
    }

    private static async Task<bool> RetryConnectingAsync(Exception exception, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"cluster not reachable yet ({exception.GetType().Name}: {exception.Message}); retrying in 1 s");
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        return true;
    }

    /// <summary>
    /// Creates or updates the membership tables and the named queries the clustering provider reads.
    /// Idempotent, and safe when several silos start at once.
    /// </summary>
    public static async Task MigrateAsync(MessengerClusterOptions options, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(MembershipConnectionString(options));
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        await PostgresMigrator.ApplyAsync(dataSource, Scripts, "cluster_schema_migrations", MigrationLock,
            $"the membership database '{builder.Database}' on {builder.Host}:{builder.Port}", cancellationToken);
    }

    /// <summary>The membership connection string, with times in UTC whatever the server's time zone.</summary>
    private static string MembershipConnectionString(MessengerClusterOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        builder.Timezone ??= "UTC";
        return builder.ConnectionString;
    }
}
